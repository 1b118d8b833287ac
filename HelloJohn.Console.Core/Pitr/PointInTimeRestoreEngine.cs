using System.Formats.Tar;
using System.Globalization;
using System.Text;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

public sealed record TableRowCount(string Database, string Schema, string Table, long Rows);

/// <summary>What a finished restore produced and how to use it.</summary>
public sealed record PitrRestoreResult(
    string DataDirectory,
    int Port,
    int Timeline,
    string StoppedAt,
    bool Promoted,
    IReadOnlyList<TableRowCount> RowCounts,
    string ConnectionUrl,
    IReadOnlyList<string> NextSteps);

/// <summary>Restores a base backup into a new, empty data directory on a new port and replays the archived WAL up to the
/// target with stock PostgreSQL: <c>restore_command</c> reads the WAL staged from the console's archive. It never
/// touches a running cluster. No lifecycle of its own: <see cref="PitrRestoreExecution"/> runs it as a run.</summary>
public sealed class PointInTimeRestoreEngine(
    IPgToolRunner runner,
    PitrArchiveStores stores,
    PitrWorkspace workspace,
    TargetService targets,
    ILogger<PointInTimeRestoreEngine> logger)
{
    public const string StagingFolder = "hellojohn_console_wal";
    public const string LogFile = "hellojohn_console_restore.log";

    /// <param name="plan">What to restore, where.</param>
    /// <param name="progress">Told each phase.</param>
    /// <param name="ct">Stops the restore: the server it started is stopped and what it wrote removed.</param>
    /// <param name="directoryChosen">Told, before anything is written, whether the restore creates its data directory
    /// (true) or fills one that exists empty (false), so a crash can be cleaned up after.</param>
    public async Task<PitrRestoreResult> RestoreAsync(PitrRestorePlan plan, IProgress<string>? progress, CancellationToken ct, Func<bool, Task>? directoryChosen = null)
    {
        var created = !Directory.Exists(plan.DataDirectory);
        if (!created && Directory.EnumerateFileSystemEntries(plan.DataDirectory).Any())
        {
            throw new PitrInputException($"{plan.DataDirectory} is no longer empty. Nothing was restored.");
        }

        if (directoryChosen is not null)
        {
            await directoryChosen(created);
        }

        var started = false;
        try
        {
            Directory.CreateDirectory(plan.DataDirectory);
            File.SetUnixFileMode(plan.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            progress?.Report($"Unpacking the base backup of {plan.BaseBackup.ConsistentAt:yyyy-MM-dd HH:mm} UTC");
            await UnpackBaseBackupAsync(plan, ct);
            progress?.Report($"Staging {plan.Segments.Count} WAL segments from the archive");
            var staging = Path.Combine(plan.DataDirectory, StagingFolder);
            await StageWalAsync(plan, staging, ct);
            var control = await runner.RunAsync(new PgToolInvocation("pg_controldata", [plan.DataDirectory]), ct);
            if (!control.Succeeded)
            {
                throw new InvalidOperationException($"pg_controldata could not read the restored base backup: {control.ErrorSummary}");
            }

            await RestoredServer.WriteRecoverySettingsAsync(plan, staging, RestoredServer.PrimarySettings(control.StandardOutputText), ct);
            if (PgToolRunner.IsRoot)
            {
                PgToolRunner.ChownToServerUser(plan.DataDirectory);
            }

            progress?.Report($"Replaying WAL on port {plan.Port} up to the target");
            var log = Path.Combine(plan.DataDirectory, LogFile);
            started = true;
            var start = await runner.RunAsync(new PgToolInvocation("pg_ctl", ["-D", plan.DataDirectory, "-l", log, "-w", "-t", "3600", "start"]) { AsServerUser = true }, ct);
            if (!start.Succeeded)
            {
                throw new InvalidOperationException($"The restored server did not start: {RestoredServer.LogTail(log)}");
            }

            var connection = await ConnectionAsync(plan, ct);
            var (timeline, promoted) = await RestoredServer.WaitForTargetAsync(connection, plan.Mode, plan.Range.Timeline, log, ct);
            var stoppedAt = RestoredServer.StoppingLine(log) ?? "PostgreSQL did not write where it stopped.";
            Directory.Delete(staging, recursive: true);
            progress?.Report("Counting rows of every table");
            var counts = await RestoredServer.CountRowsAsync(connection, ct);
            logger.LogInformation("Point-in-time restore of server {Server} to {Target} finished on port {Port}: {Stopped}", plan.Server, plan.TargetUtc, plan.Port, stoppedAt);
            return new PitrRestoreResult(plan.DataDirectory, plan.Port, timeline, stoppedAt, promoted, counts, connection.ToUrl(includePassword: false), NextSteps(plan, connection, promoted));
        }
        catch
        {
            if (started)
            {
                await StopServerAsync(runner, plan.DataDirectory);
            }

            RemoveWritten(plan.DataDirectory, created);
            throw;
        }
    }

    /// <summary>Stops the PostgreSQL server running in <paramref name="dataDirectory"/> at once (as the server user);
    /// null when it stopped or none ran there, else why it could not be stopped.</summary>
    internal static async Task<string?> StopServerAsync(IPgToolRunner runner, string dataDirectory)
    {
        if (!File.Exists(Path.Combine(dataDirectory, "postmaster.pid")))
        {
            return null;
        }

        var stop = await runner.RunAsync(new PgToolInvocation("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"]) { AsServerUser = true }, CancellationToken.None);
        return stop.Succeeded || !File.Exists(Path.Combine(dataDirectory, "postmaster.pid")) ? null : stop.ErrorSummary;
    }

    /// <summary>Removes what a restore wrote: the whole directory when it created it, else the directory's content (it
    /// was empty when the restore began).</summary>
    internal static void RemoveWritten(string dataDirectory, bool created)
    {
        if (created)
        {
            BaseBackupEngine.TryDelete(dataDirectory);
            return;
        }

        if (!Directory.Exists(dataDirectory))
        {
            return;
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(dataDirectory))
        {
            if (Directory.Exists(entry))
            {
                BaseBackupEngine.TryDelete(entry);
            }
            else
            {
                File.Delete(entry);
            }
        }
    }

    private async Task UnpackBaseBackupAsync(PitrRestorePlan plan, CancellationToken ct)
    {
        var files = (plan.BaseBackup.Files ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
        foreach (var (name, into) in new[] { ("base.tar", plan.DataDirectory), ("pg_wal.tar", Path.Combine(plan.DataDirectory, "pg_wal")) })
        {
            Directory.CreateDirectory(into);
            var key = name + PitrKeys.Compressed;
            await using var stream = await stores.OpenDecompressedAsync(plan.BaseBackup.KeyPrefix + key, files[key], ct);
            await TarFile.ExtractToDirectoryAsync(stream, into, overwriteFiles: false, ct);
            // Read to the end so the SHA-256 of the stored bytes is checked.
            await stream.CopyToAsync(Stream.Null, ct);
        }
    }

    /// <summary>Copies the needed WAL into the data directory's staging folder, decompressed: the segment still being
    /// received comes from this instance's receiver folder when it is here (fresher than its copy in the stores).</summary>
    private async Task StageWalAsync(PitrRestorePlan plan, string staging, CancellationToken ct)
    {
        Directory.CreateDirectory(staging);
        var snapshotFiles = await stores.ListWalAsync(plan.Server, ct);
        var present = snapshotFiles.ToDictionary(f => f.File, f => f.Key);
        var spool = workspace.SpoolOf(plan.Server);
        var last = plan.Segments.Count == 0 ? (WalFileName?)null : plan.Segments[^1];
        var wanted = plan.Segments.ToList();
        // Segments the receiver here has and the stores do not have yet continue the same stretch.
        for (var next = (last?.Segment ?? 0) + 1; last is { } l && SpoolHas(spool, WalFileName.SegmentOf(l.Timeline, next)); next++)
        {
            wanted.Add(WalFileName.SegmentOf(l.Timeline, next));
        }

        foreach (var segment in wanted)
        {
            var destination = Path.Combine(staging, segment.FileName);
            var local = SpoolPath(spool, segment);
            if (local is not null)
            {
                File.Copy(local, destination);
                continue;
            }

            var closed = WalFileName.SegmentOf(segment.Timeline, segment.Segment);
            var partial = closed with { Kind = WalFileKind.Partial };
            var key = present.GetValueOrDefault(closed) ?? present.GetValueOrDefault(partial)
                ?? throw new InvalidOperationException($"WAL segment {segment.FileName} was in the window but is no longer in the archive. Nothing was started; plan the restore again.");
            await stores.FetchAsync(key, null, destination, ct);
        }

        foreach (var history in plan.Histories)
        {
            await File.WriteAllTextAsync(Path.Combine(staging, WalFileName.HistoryOf(history.Timeline).FileName), history.Content, ct);
        }
    }

    private static bool SpoolHas(string spool, WalFileName segment) => SpoolPath(spool, segment) is not null;

    private static string? SpoolPath(string spool, WalFileName segment)
    {
        var closed = Path.Combine(spool, segment.FileName);
        if (File.Exists(closed))
        {
            return closed;
        }

        var partial = closed + ".partial";
        return File.Exists(partial) ? partial : null;
    }

    private async Task<NpgsqlConnectionStringBuilder> ConnectionAsync(PitrRestorePlan plan, CancellationToken ct)
    {
        var source = await targets.GetConnectionAsync(plan.Server, ct);
        return new NpgsqlConnectionStringBuilder(source.ConnectionString) { Host = "127.0.0.1", Port = plan.Port, Pooling = false, SslMode = SslMode.Disable, Timeout = 15 };
    }

    private static IReadOnlyList<string> NextSteps(PitrRestorePlan plan, NpgsqlConnectionStringBuilder connection, bool promoted)
    {
        var url = connection.ToUrl(includePassword: false).Replace("@", ":<password>@", StringComparison.Ordinal);
        var steps = new List<string>();
        if (!promoted)
        {
            steps.Add($"The restored server is paused at the target and read only. Inspect it: psql \"{url}\". To make it a primary: SELECT pg_promote();");
        }

        steps.Add($"Point HelloJohn at it: set its DATABASE_URL to {url} (same role and password as the source) and restart HelloJohn.");
        steps.Add($"To reach it from other hosts, set listen_addresses in {plan.DataDirectory}/postgresql.auto.conf and add a pg_hba.conf line, then restart it with: pg_ctl -D {plan.DataDirectory} restart");
        steps.Add("Give the console the new server under Settings → Targets (Set connection) or HELLOJOHN_DATABASE_URL, so backups and WAL streaming follow it.");
        return steps;
    }
}
