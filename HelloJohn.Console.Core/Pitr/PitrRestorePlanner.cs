using HelloJohn.Console.Core.Recovery;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Bad input to a point-in-time restore: nothing was started; the message says what to fix.</summary>
public sealed class PitrInputException(string message) : Exception(message);

/// <summary>What a restore will do, decided before anything is written: the base backup, the WAL files in order, the
/// timeline, where it goes.</summary>
public sealed record PitrRestorePlan(
    Guid Server,
    DateTimeOffset TargetUtc,
    string Zone,
    PitrRestoreMode Mode,
    string DataDirectory,
    int Port,
    BaseBackupRecord BaseBackup,
    WindowRange Range,
    bool LatestTimeline,
    IReadOnlyList<WalFileName> Segments,
    IReadOnlyList<WalArchiveFile> Histories);

/// <summary>Turns a request into a <see cref="PitrRestorePlan"/> or refuses it with the reason and the window.</summary>
public sealed class PitrRestorePlanner(PitrCatalog catalog, TimeProvider time)
{
    public async Task<PitrRestorePlan> PlanAsync(Guid server, string? timeText, string? zoneText, PitrRestoreMode mode, string? dataDirectory, int? port, CancellationToken ct)
    {
        DateTimeOffset target;
        string zone;
        try
        {
            (target, zone) = PointInTimeSteps.ParseTime(timeText, zoneText);
        }
        catch (RecoveryInputException e)
        {
            throw new PitrInputException(e.Message.Replace("Nothing was stored.", "Nothing was restored.", StringComparison.Ordinal));
        }

        return await PlanAtAsync(server, target, zone, mode, dataDirectory, port, ct);
    }

    /// <summary>Plans for a time already read (a queued restore is planned again when it starts).</summary>
    public async Task<PitrRestorePlan> PlanAtAsync(Guid server, DateTimeOffset target, string zone, PitrRestoreMode mode, string? dataDirectory, int? port, CancellationToken ct)
    {
        var directory = CheckDirectory(dataDirectory);
        var chosenPort = port is { } p ? CheckPort(p) : Postgres.LocalPostgresCluster.FreeLoopbackPort();
        var snapshot = await catalog.LoadAsync(server, ct, fresh: true);
        return Choose(server, target, zone, mode, directory, chosenPort, snapshot, time.GetUtcNow());
    }

    /// <summary>Pure part of planning, given the catalog snapshot.</summary>
    public static PitrRestorePlan Choose(Guid server, DateTimeOffset target, string zone, PitrRestoreMode mode, string directory, int port, PitrCatalog.Snapshot snapshot, DateTimeOffset now)
    {
        var window = snapshot.Window;
        if (target > now)
        {
            throw new PitrInputException($"{target:yyyy-MM-dd HH:mm:ss} UTC is in the future. Recoverable now: {window.Describe()}. Nothing was restored.");
        }

        var range = window.Find(target);
        if (range is null)
        {
            var ranges = window.Timelines.SelectMany(t => t.Ranges).ToList();
            var gaps = window.Timelines.SelectMany(t => t.Gaps).Select(g => g.Describe()).ToList();
            var newest = snapshot.State?.NewestCommitAt ?? (ranges.Count == 0 ? null : ranges.Max(r => r.To));
            var why = ranges.Count == 0 ? "there is no recoverable window yet (a base backup and WAL after it are needed)"
                : target < ranges.Min(r => r.From) ? "it is before the end of the oldest base backup"
                : newest is null || target >= newest ? "it is after the newest commit the console has received"
                : $"the WAL to reach it from a base backup is not continuous ({(gaps.Count == 0 ? "no base backup before it on this stretch" : string.Join("; ", gaps))})";
            throw new PitrInputException(
                $"{target:yyyy-MM-dd HH:mm:ss} UTC cannot be restored: {why}. Recoverable window: {window.Describe()}. Nothing was restored.");
        }

        var backupWindow = range.Backups.Where(b => b.ConsistentAt <= target).OrderByDescending(b => b.ConsistentAt).First();
        var backup = snapshot.BaseBackups.First(b => b.Id == backupWindow.Id);
        var timeline = window.Timelines.First(t => t.Timeline == range.Timeline);
        var segments = new List<WalFileName>();
        for (var seg = backupWindow.Start.Segment; seg <= range.LastSegment; seg++)
        {
            segments.Add(WalFileName.SegmentOf(timeline.History.TimelineOfSegment(seg), seg));
        }

        var histories = snapshot.Catalogued.Values
            .Where(w => w.Kind == WalFileKind.History && timeline.History.Path.Contains(w.Timeline))
            .ToList();
        var latest = range.Timeline == window.Latest!.Timeline;
        return new PitrRestorePlan(server, target, zone, mode, directory, port, backup, range, latest, segments, histories);
    }

    private static string CheckDirectory(string? dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(dataDirectory) || !Path.IsPathFullyQualified(dataDirectory.Trim()))
        {
            throw new PitrInputException("Give the new data directory as an absolute path (for example /var/lib/postgresql/15/restored). Nothing was restored.");
        }

        var directory = Path.GetFullPath(dataDirectory.Trim());
        if (File.Exists(directory))
        {
            throw new PitrInputException($"{directory} is a file, not a directory. Give a new, empty directory. Nothing was restored.");
        }

        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new PitrInputException($"{directory} is not empty. A restore never writes over existing files (a running cluster may live there): give a new or empty directory. Nothing was restored.");
        }

        return directory;
    }

    private static int CheckPort(int port)
    {
        if (port is < 1024 or > 65535)
        {
            throw new PitrInputException($"Port {port} is outside 1024–65535. Leave it empty for a free one. Nothing was restored.");
        }

        if (RestoredServerInspector.PortIsTaken(port))
        {
            throw new PitrInputException($"Port {port} is in use on this machine (a running server may listen there). Choose another, or leave it empty for a free one. Nothing was restored.");
        }

        return port;
    }
}
