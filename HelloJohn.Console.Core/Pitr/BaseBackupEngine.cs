using System.Formats.Tar;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Takes a base backup with stock pg_basebackup (tar, WAL streamed alongside, SHA-256 manifest), proves it with
/// pg_verifybackup, stores it compressed in the daily stores and catalogues it. It has no lifecycle of its own beyond
/// its record: a job or a future run calls <see cref="RunAsync"/>.</summary>
public sealed class BaseBackupEngine(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    PitrConnections connections,
    IPgToolRunner runner,
    PitrArchiveStores stores,
    PitrWorkspace workspace,
    BaseBackupRetention retention,
    PitrNotifier notifier,
    IOptions<PitrOptions> options,
    TimeProvider time,
    ILogger<BaseBackupEngine> logger)
{
    public static readonly string[] StoredFiles = ["base.tar", "pg_wal.tar", "backup_manifest"];

    /// <summary>Runs the base backup <paramref name="backupId"/> (queued by <see cref="IBaseBackupRequester"/>). A failure
    /// is recorded on the record and rethrown; nothing half-stored stays behind.</summary>
    public async Task RunAsync(Guid backupId, IProgress<string>? progress, CancellationToken ct)
    {
        BaseBackupRecord record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Hangfire delivers a job at least once: a server it took for dead (a heartbeat missed on a busy machine)
            // has its job run again elsewhere. Only the delivery that moves the record out of Queued takes the backup;
            // two at once would write the same files and leave a catalogued checksum that matches neither.
            var claimed = await db.Set<BaseBackupRecord>().Where(b => b.Id == backupId && b.Status == BaseBackupStatus.Queued)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(b => b.Status, BaseBackupStatus.Running)
                    .SetProperty(b => b.StartedAt, time.GetUtcNow()), ct);
            record = await db.Set<BaseBackupRecord>().AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId, ct)
                ?? throw new KeyNotFoundException($"There is no base backup {backupId}.");
            if (claimed == 0)
            {
                logger.LogInformation("Base backup {Backup} is {Status} already; this delivery of its job does nothing", backupId, record.Status);
                return;
            }
        }

        notifier.Publish(record.TargetId);
        var scratch = workspace.ScratchFor("basebackup");
        try
        {
            await TakeAsync(record, scratch, progress, ct);
            await SaveAsync(record, r =>
            {
                r.Status = BaseBackupStatus.Succeeded;
                r.FinishedAt = time.GetUtcNow();
                r.Timeline = record.Timeline;
                r.StartLsn = record.StartLsn;
                r.EndLsn = record.EndLsn;
                r.ConsistentAt = record.ConsistentAt;
                r.SizeBytes = record.SizeBytes;
                r.Stores = record.Stores;
                r.Files = record.Files;
                r.Verification = record.Verification;
            });
            logger.LogInformation("Base backup {Backup} of server {Server} stored: timeline {Timeline}, {Start}..{End}", record.Id, record.TargetId, record.Timeline, record.StartLsn, record.EndLsn);
            await retention.ApplyAsync(record.TargetId, ct);
        }
        catch (Exception e)
        {
            var message = e is OperationCanceledException ? "Cancelled: the console stopped or the job was cancelled." : e.Message;
            await SaveAsync(record, r => { r.Status = BaseBackupStatus.Failed; r.FinishedAt = time.GetUtcNow(); r.Error = message; });
            await RemoveStoredAsync(record);
            throw;
        }
        finally
        {
            TryDelete(scratch);
        }
    }

    private async Task TakeAsync(BaseBackupRecord record, string scratch, IProgress<string>? progress, CancellationToken ct)
    {
        var output = Path.Combine(scratch, "tar");
        Directory.CreateDirectory(scratch);
        var connection = await connections.ReplicationAsync(record.TargetId, ct);
        progress?.Report("pg_basebackup is copying the data directory");
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

        progress?.Report("pg_verifybackup is checking every file against the manifest");
        record.Verification = await VerifyAsync(output, Path.Combine(scratch, "verify"), ct);

        progress?.Report("Storing the backup in the daily stores");
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

    private async Task SaveAsync(BaseBackupRecord record, Action<BaseBackupRecord> change)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var row = await db.Set<BaseBackupRecord>().FirstAsync(b => b.Id == record.Id, CancellationToken.None);
        change(row);
        await db.SaveChangesAsync(CancellationToken.None);
        notifier.Publish(record.TargetId);
    }

    private async Task RemoveStoredAsync(BaseBackupRecord record)
    {
        foreach (var name in StoredFiles)
        {
            try
            {
                await stores.DeleteEverywhereAsync(record.KeyPrefix + name + PitrKeys.Compressed, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException)
            {
                logger.LogWarning("Could not remove {Key} of the failed base backup {Backup}: {Message}", record.KeyPrefix + name, record.Id, e.Message);
            }
        }
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
