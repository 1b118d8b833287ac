using System.Formats.Tar;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Takes a base backup with stock pg_basebackup (tar, WAL streamed alongside, SHA-256 manifest), proves it with
/// pg_verifybackup, stores it compressed in the daily stores and catalogues it, as a run of kind
/// <see cref="RunKind.BaseBackup"/>: claimed by the instance that executes it, one per server at a time across instances,
/// its phases shown live, its end and its catalog entry written together.</summary>
public sealed class BaseBackupEngine(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    PitrConnections connections,
    IPgToolRunner runner,
    PitrArchiveStores stores,
    PitrWorkspace workspace,
    BaseBackupRetention retention,
    PitrNotifier notifier,
    RunLifecycle lifecycle,
    ConsoleLocks locks,
    IOptions<PitrOptions> options,
    TimeProvider time,
    ILogger<BaseBackupEngine> logger)
{
    private static readonly TimeSpan TurnPoll = TimeSpan.FromSeconds(1);

    public static readonly string[] StoredFiles = ["base.tar", "pg_wal.tar", "backup_manifest"];

    public const string ScratchPurpose = "basebackup";

    /// <summary>Runs the base backup <paramref name="backupId"/> (queued by <see cref="IBaseBackupRequester"/>). A failure
    /// is recorded on the run and its catalog entry and rethrown; nothing half-stored stays behind. A cancelled one ends
    /// as cancelled, with nothing stored.</summary>
    public async Task RunAsync(Guid backupId, CancellationToken ct)
    {
        BaseBackupRecord record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Set<BaseBackupRecord>().AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId, ct)
                ?? throw new KeyNotFoundException($"There is no base backup {backupId}.");
        }

        // One base backup per server at a time, across instances: a queued one waits here while another runs (a window
        // restart asks for one that starts after it). Hangfire delivers a job at least once: only the delivery that
        // claims the queued run takes the backup.
        await using var held = await TakeTurnAsync(record, ct);
        if (held is null)
        {
            logger.LogInformation("Base backup {Backup} was cancelled while it waited for its turn", backupId);
            return;
        }

        var claim = await lifecycle.ClaimAsync(backupId, BaseBackupPhase.Copying, ct);
        if (claim is null)
        {
            logger.LogInformation("Base backup {Backup} is no longer queued; this delivery of its job does nothing", backupId);
            return;
        }

        await using (claim)
        {
            await RunClaimedAsync(claim, record);
        }
    }

    /// <summary>Takes the server's base backup lock, waiting (phase <see cref="BaseBackupPhase.Waiting"/>) while another
    /// base backup of the server runs; null when this one stopped being queued meanwhile (cancelled).</summary>
    private async Task<ConsoleLock?> TakeTurnAsync(BaseBackupRecord record, CancellationToken ct)
    {
        var waiting = false;
        while (true)
        {
            if (await locks.TryAcquireAsync(ConsoleLocks.ForBaseBackup(record.TargetId), ct) is { } held)
            {
                return held;
            }

            if (!waiting)
            {
                waiting = true;
                await lifecycle.SetQueuedPhaseAsync(RunKind.BaseBackup, record.Id, BaseBackupPhase.Waiting);
                notifier.Publish(record.TargetId);
            }
            else if (!await lifecycle.IsQueuedAsync(record.Id, ct))
            {
                return null;
            }

            await Task.Delay(TurnPoll, time, ct);
        }
    }

    private async Task RunClaimedAsync(RunClaim claim, BaseBackupRecord record)
    {
        notifier.Publish(record.TargetId);
        var phases = new PitrRunPhases(lifecycle, claim, notifier, record.TargetId);
        var scratch = workspace.ScratchOf(ScratchPurpose, record.Id);
        try
        {
            await TakeAsync(record, scratch, phases, claim.Token);
            await phases.WrittenAsync();
            if (!await lifecycle.FinishAsync(claim, RunEnd.Succeeded($"timeline {record.Timeline}, {record.StartLsn}..{record.EndLsn}, {record.SizeBytes} bytes stored in {record.Stores}") with
            {
                Record = (db, c) => db.Set<BaseBackupRecord>().Where(b => b.Id == record.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(b => b.Status, BaseBackupStatus.Succeeded)
                    .SetProperty(b => b.Timeline, record.Timeline)
                    .SetProperty(b => b.StartLsn, record.StartLsn)
                    .SetProperty(b => b.EndLsn, record.EndLsn)
                    .SetProperty(b => b.ConsistentAt, record.ConsistentAt)
                    .SetProperty(b => b.SizeBytes, record.SizeBytes)
                    .SetProperty(b => b.Stores, record.Stores)
                    .SetProperty(b => b.Files, record.Files)
                    .SetProperty(b => b.Verification, record.Verification)
                    .SetProperty(b => b.Error, (string?)null), c),
            }))
            {
                // Ended elsewhere meanwhile (a sweep that took this instance for dead removed what it stored).
                return;
            }
        }
        catch (Exception e)
        {
            await phases.WrittenAsync();
            var cancelled = e is OperationCanceledException && claim.StopRequested;
            var left = await RemoveStoredAsync(stores, record.KeyPrefix, logger);
            var stored = left is null ? "" : $" What it had stored could not all be removed: {left}";
            var message = cancelled
                ? $"{claim.StopReason ?? "Cancelled: the console stopped"}. pg_basebackup was stopped and nothing was stored.{stored}"
                : $"{e.Message}{stored}";
            var status = cancelled ? RunStatus.Cancelled : RunStatus.Failed;
            await lifecycle.FinishAsync(claim, new RunEnd(status, message, cancelled ? null : FailureKindOf(e)) { AuditDetail = $"{status.ToString().ToLowerInvariant()}: {message}" });
            notifier.Publish(record.TargetId);
            if (!cancelled)
            {
                throw;
            }

            return;
        }
        finally
        {
            TryDelete(scratch);
        }

        notifier.Publish(record.TargetId);
        logger.LogInformation("Base backup {Backup} of server {Server} stored: timeline {Timeline}, {Start}..{End}", record.Id, record.TargetId, record.Timeline, record.StartLsn, record.EndLsn);
        await retention.ApplyAsync(record.TargetId, CancellationToken.None);
    }

    private static RunFailureKind FailureKindOf(Exception e) => e switch
    {
        PostgresException => RunFailureKind.TargetRefused,
        NpgsqlException => RunFailureKind.TargetUnreachable,
        IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException => RunFailureKind.Storage,
        InvalidOperationException => RunFailureKind.Tool,
        _ => RunFailureKind.Unexpected,
    };

    private async Task TakeAsync(BaseBackupRecord record, string scratch, IProgress<string> progress, CancellationToken ct)
    {
        var output = Path.Combine(scratch, "tar");
        Directory.CreateDirectory(scratch);
        var connection = await connections.ReplicationAsync(record.TargetId, ct);
        var result = await runner.RunAsync(new PgToolInvocation("pg_basebackup",
        [
            "-D", output, "--format=tar", "--wal-method=stream", "--manifest-checksums=SHA256", "--checkpoint=fast",
            "--label", $"hellojohn-console {record.Id:N}", "--no-password", "--verbose",
        ]) { Connection = connection }, ct);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_basebackup failed: {result.ErrorSummary}. Nothing was stored.");
        }

        var manifest = await File.ReadAllTextAsync(Path.Combine(output, "backup_manifest"), ct);
        var range = ReadWalRange(manifest);
        record.Timeline = range.Timeline;
        record.StartLsn = range.Start.ToString();
        record.EndLsn = range.End.ToString();
        record.ConsistentAt = await ServerNowAsync(connection, ct);

        progress.Report(BaseBackupPhase.Verifying);
        record.Verification = await VerifyAsync(output, Path.Combine(scratch, "verify"), ct);

        progress.Report(BaseBackupPhase.Storing);
        var files = new StringBuilder();
        var stored = new List<string>();
        foreach (var name in StoredFiles)
        {
            var put = await stores.PutLargeAsync(Path.Combine(output, name), record.KeyPrefix + name + PitrKeys.Compressed, options.Value.WalCompressionLevel, ct);
            files.Append(CultureInfo.InvariantCulture, $"{name}{PitrKeys.Compressed} {put.Sha256} {put.SizeBytes}\n");
            record.SizeBytes += put.SizeBytes;
            stored = [.. put.Stores];
        }

        record.Files = files.ToString();
        record.Stores = string.Join(",", stored);
    }

    /// <summary>PostgreSQL 15's pg_verifybackup reads plain-format backups only: the tar is unpacked to a scratch folder
    /// with its WAL and manifest, and checked there (files, checksums, and that the WAL parses up to the end).</summary>
    private async Task<string> VerifyAsync(string tarDirectory, string verifyDirectory, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.Combine(verifyDirectory, "pg_wal"));
        await TarFile.ExtractToDirectoryAsync(Path.Combine(tarDirectory, "base.tar"), verifyDirectory, overwriteFiles: false, ct);
        await TarFile.ExtractToDirectoryAsync(Path.Combine(tarDirectory, "pg_wal.tar"), Path.Combine(verifyDirectory, "pg_wal"), overwriteFiles: false, ct);
        File.Copy(Path.Combine(tarDirectory, "backup_manifest"), Path.Combine(verifyDirectory, "backup_manifest"));
        var result = await runner.RunAsync(new PgToolInvocation("pg_verifybackup", [verifyDirectory]), ct);
        TryDelete(verifyDirectory);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_verifybackup found a problem: {result.ErrorSummary}. The backup was not stored.");
        }

        return result.StandardOutputText.Trim().Length > 0 ? result.StandardOutputText.Trim() : "backup successfully verified";
    }

    public sealed record WalRange(int Timeline, Lsn Start, Lsn End);

    /// <summary>The manifest's <c>WAL-Ranges</c>: the WAL a restore of this backup needs before it is consistent.</summary>
    public static WalRange ReadWalRange(string manifestJson)
    {
        using var doc = JsonDocument.Parse(manifestJson);
        var ranges = doc.RootElement.GetProperty("WAL-Ranges").EnumerateArray().ToList();
        var first = ranges[0];
        var last = ranges[^1];
        return new WalRange(last.GetProperty("Timeline").GetInt32(), Lsn.Parse(first.GetProperty("Start-LSN").GetString()!), Lsn.Parse(last.GetProperty("End-LSN").GetString()!));
    }

    private static async Task<DateTimeOffset> ServerNowAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT clock_timestamp()", conn);
        return new DateTimeOffset((DateTime)(await cmd.ExecuteScalarAsync(ct))!, TimeSpan.Zero);
    }

    /// <summary>Removes a base backup's files from every daily store; returns what could not be removed, or null.</summary>
    internal static async Task<string?> RemoveStoredAsync(PitrArchiveStores stores, string keyPrefix, ILogger logger)
    {
        var problems = new List<string>();
        foreach (var name in StoredFiles)
        {
            try
            {
                await stores.DeleteEverywhereAsync(keyPrefix + name + PitrKeys.Compressed, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException)
            {
                logger.LogWarning("Could not remove {Key} of a base backup that did not finish: {Message}", keyPrefix + name, e.Message);
                problems.Add($"{keyPrefix}{name}{PitrKeys.Compressed} ({e.Message})");
            }
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    internal static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Scratch space; a leftover is removed with the next one.
        }
    }
}

/// <summary>Where a base backup run is.</summary>
public static class BaseBackupPhase
{
    /// <summary>Queued behind another base backup of the same server.</summary>
    public const string Waiting = "Waiting";
    /// <summary>pg_basebackup copies the data directory and streams the WAL written meanwhile.</summary>
    public const string Copying = "Copying";
    /// <summary>pg_verifybackup checks every file against the manifest.</summary>
    public const string Verifying = "Verifying";
    /// <summary>The backup is compressed into the daily stores.</summary>
    public const string Storing = "Storing";
}
