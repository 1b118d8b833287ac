using System.Globalization;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Turns a finished run into its event, read from the run's own record, and raises it. Called for every run that
/// ends (<see cref="RunNoticesAfterRun"/>), and never throws: the run's outcome is already recorded.</summary>
public sealed class RunNotices(IDbContextFactory<ConsoleDbContext> dbFactory, NotificationCenter center, ILogger<RunNotices> logger)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>A backup ended. <paramref name="failedStores"/>: "store: reason" for each store that did not keep it.</summary>
    public Task BackupFinishedAsync(Guid backupId, IReadOnlyCollection<string>? failedStores = null) => GuardAsync("backup", backupId, async db =>
    {
        var b = await db.Backups.AsNoTracking().Include(x => x.Target).FirstOrDefaultAsync(x => x.Id == backupId);
        // A set's members are announced together, once for the set (Sets.SetNotices).
        if (b is null || b.SetId is not null || b.Status is BackupStatus.Cancelled or BackupStatus.Queued or BackupStatus.Running)
        {
            return;
        }

        var target = b.Target!.Name;
        var facts = Facts(("file", b.FileName), ("trigger", b.Trigger.ToString()), ("requestedBy", b.RequestedBy), ("status", b.Status.ToString()));
        if (b.Status == BackupStatus.Failed)
        {
            await center.RaiseAsync(new NotificationEvent(NotificationEventKind.BackupFailed, NotificationSeverity.Critical, $"Backup of {target} failed", b.Error ?? "The backup failed.")
            {
                TargetId = b.TargetId, TargetName = target, SubjectId = b.Id, LinkPath = ConsoleLinks.Backup(b.Id), Facts = facts,
                NotTouched = "HelloJohn's database was only read; the backups taken before this one are untouched.",
            });
            return;
        }

        facts["sizeBytes"] = (b.SizeBytes ?? 0).ToString(C);
        facts["durationSeconds"] = (b.Duration?.TotalSeconds ?? 0).ToString("0.###", C);
        var size = FormatBytes(b.SizeBytes ?? 0);
        var text = $"{b.FileName}: {size} in {Seconds(b.Duration)}, SHA-256 {b.Sha256?[..12]}….";
        if (b.Status == BackupStatus.PartiallyStored)
        {
            text += " " + b.Error;
        }

        await center.RaiseAsync(new NotificationEvent(NotificationEventKind.BackupSucceeded,
            b.Status == BackupStatus.PartiallyStored ? NotificationSeverity.Warning : NotificationSeverity.Info,
            b.Status == BackupStatus.PartiallyStored ? $"Backup of {target} stored only in part" : $"Backup of {target} succeeded", text)
        {
            TargetId = b.TargetId, TargetName = target, SubjectId = b.Id, LinkPath = ConsoleLinks.Backup(b.Id), Facts = facts,
        });
        foreach (var failure in failedStores ?? [])
        {
            var store = failure.Split(':', 2)[0].Trim();
            await center.RaiseAsync(new NotificationEvent(NotificationEventKind.StorageTierFailing, NotificationSeverity.Warning,
                $"Storage '{store}' failed during a backup of {target}", $"{b.FileName} could not be stored in '{store}': {failure.Split(':', 2).ElementAtOrDefault(1)?.Trim()}")
            {
                TargetId = b.TargetId, TargetName = target, SubjectId = b.Id, LinkPath = ConsoleLinks.Backup(b.Id), Store = store, Facts = Facts(("store", store), ("file", b.FileName)),
                NotTouched = "The backup is complete in the other stores; Retry upload on the Backups page copies it once the store answers.",
            });
        }
    });

    public Task VerificationFinishedAsync(Guid runId) => GuardAsync("verification", runId, async db =>
    {
        var r = await db.Set<VerificationRun>().AsNoTracking().Include(x => x.Run).ThenInclude(x => x!.Target).FirstOrDefaultAsync(x => x.Id == runId);
        if (r?.Run is not { Status: RunStatus.Succeeded or RunStatus.Failed } run)
        {
            return;
        }

        var passed = run.Status == RunStatus.Succeeded;
        var facts = Facts(("file", r.BackupFileName), ("trigger", r.Trigger.ToString()), ("rowsCounted", r.RowsCounted?.ToString(C)),
            ("durationSeconds", run.Duration?.TotalSeconds.ToString("0.###", C)), ("failedCheck", r.FailedCheck));
        await center.RaiseAsync(new NotificationEvent(passed ? NotificationEventKind.VerificationPassed : NotificationEventKind.VerificationFailed,
            passed ? NotificationSeverity.Info : NotificationSeverity.Critical,
            $"Verification of {r.BackupFileName} {(passed ? "passed" : "failed")}",
            passed ? $"Restored into a throw-away database in {Seconds(run.Duration)}; {r.RowsCounted:N0} rows, every table's count equals the manifest." : run.Error ?? "The verification did not pass.")
        {
            TargetId = run.TargetId, TargetName = run.Target?.Name, SubjectId = r.Id, Facts = facts,
            LinkPath = r.BackupId is { } backup ? $"/verification?backup={backup}" : "/verification",
            NotTouched = "HelloJohn's database and the backup file were not changed; the throw-away database is dropped after every run.",
        });
    });

    public Task RestoreFinishedAsync(Guid runId) => GuardAsync("restore", runId, async db =>
    {
        var r = await db.Set<RestoreRun>().AsNoTracking().Include(x => x.Run).ThenInclude(x => x!.Target).FirstOrDefaultAsync(x => x.Id == runId);
        if (r?.Run is not { Status: RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled } run)
        {
            return;
        }

        var ok = run.Status == RunStatus.Succeeded;
        var inPlace = r.Mode == RestoreMode.InPlace;
        await center.RaiseAsync(new NotificationEvent(NotificationEventKind.RestoreFinished,
            ok ? NotificationSeverity.Info : run.Status == RunStatus.Cancelled ? NotificationSeverity.Warning : NotificationSeverity.Critical,
            $"Restore {(inPlace ? "in place" : "into a new database")} {run.Status.ToString().ToLowerInvariant()}: {r.BackupFileName} → {r.DatabaseName}",
            ok ? $"{r.RowsRestored:N0} rows restored into {r.DatabaseName} on {r.Server} in {Seconds(run.Duration)}; the row counts match the manifest." : run.Error ?? "The restore did not finish.")
        {
            TargetId = run.TargetId, TargetName = run.Target?.Name, SubjectId = r.Id, LinkPath = "/restores",
            Facts = Facts(("file", r.BackupFileName), ("database", r.DatabaseName), ("mode", r.Mode.ToString()), ("status", run.Status.ToString()),
                ("durationSeconds", run.Duration?.TotalSeconds.ToString("0.###", C)), ("rowsRestored", r.RowsRestored?.ToString(C))),
            NotTouched = inPlace ? (r.SafetyBackupId is null ? null : "A safety backup of the live database was taken before anything was written.")
                : "The live HelloJohn database was not touched.",
        });
    });

    /// <summary>A base backup of a server streaming WAL ended; a failed one is announced as a failed backup (a cancelled
    /// one was stopped by a person, a succeeded one shows on the Point-in-time page).</summary>
    public Task BaseBackupFinishedAsync(Guid runId) => GuardAsync("base backup", runId, async db =>
    {
        var run = await db.Set<RunRecord>().AsNoTracking().Include(x => x.Target).FirstOrDefaultAsync(x => x.Id == runId);
        var b = await db.Set<Pitr.BaseBackupRecord>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == runId);
        if (run is not { Status: RunStatus.Failed, TargetId: { } targetId } || b is null)
        {
            return;
        }

        var target = run.Target?.Name ?? "the server";
        await center.RaiseAsync(new NotificationEvent(NotificationEventKind.BackupFailed, NotificationSeverity.Critical, $"Base backup of {target} failed",
            run.Error ?? "The base backup failed.")
        {
            TargetId = targetId, TargetName = target, SubjectId = b.Id, LinkPath = ConsoleLinks.PointInTime(targetId),
            Facts = Facts(("kind", "base backup"), ("reason", b.Reason), ("failureKind", run.FailureKind?.ToString()), ("requestedBy", run.RequestedBy)),
            NotTouched = "The server was only read; the base backups and WAL kept before this one are untouched, and the recoverable window still starts at the oldest of them.",
        });
    });

    /// <summary>A restore to a point in time ended.</summary>
    public Task PitrRestoreFinishedAsync(Guid runId) => GuardAsync("point-in-time restore", runId, async db =>
    {
        var r = await db.Set<Pitr.PitrRestoreRecord>().AsNoTracking().Include(x => x.Run).ThenInclude(x => x!.Target).FirstOrDefaultAsync(x => x.Id == runId);
        if (r?.Run is not { Status: RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled } run)
        {
            return;
        }

        var ok = run.Status == RunStatus.Succeeded;
        await center.RaiseAsync(new NotificationEvent(NotificationEventKind.RestoreFinished,
            ok ? NotificationSeverity.Info : run.Status == RunStatus.Cancelled ? NotificationSeverity.Warning : NotificationSeverity.Critical,
            $"Point-in-time restore {run.Status.ToString().ToLowerInvariant()}: {r.TargetTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC → {r.DataDirectory}",
            ok ? $"Restored on port {r.Port} in {Seconds(run.Duration)}: {r.StoppedAt}" : run.Error ?? "The restore did not finish.")
        {
            TargetId = run.TargetId, TargetName = run.Target?.Name, SubjectId = r.Id, LinkPath = ConsoleLinks.PointInTime(r.TargetId),
            Facts = Facts(("mode", r.Mode.ToString()), ("dataDirectory", r.DataDirectory), ("port", r.Port.ToString(C)), ("status", run.Status.ToString()),
                ("durationSeconds", run.Duration?.TotalSeconds.ToString("0.###", C))),
            NotTouched = "The protected server was not touched: the restore ran in a new data directory on its own port.",
        });
    });

    /// <summary>A recovery run ended; only drills are announced (their result and measured RTO).</summary>
    public Task DrillFinishedAsync(Guid recoveryRunId) => GuardAsync("drill", recoveryRunId, async db =>
    {
        var r = await db.Set<RecoveryRun>().AsNoTracking().Include(x => x.Target).FirstOrDefaultAsync(x => x.Id == recoveryRunId);
        if (r is null || r.Scenario != RecoveryScenario.Drill || r.Status is not (RecoveryRunStatus.Completed or RecoveryRunStatus.Failed))
        {
            return;
        }

        var passed = r.Status == RecoveryRunStatus.Completed;
        var target = r.Target?.Name ?? "the target";
        await center.RaiseAsync(new NotificationEvent(NotificationEventKind.DrillFinished, passed ? NotificationSeverity.Info : NotificationSeverity.Critical,
            passed ? $"Recovery drill of {target} passed: RTO {RecoveryDurations.Describe(r.Rto)}" : $"Recovery drill of {target} failed",
            passed ? $"Restored {r.BackupFileName} into a scratch database and verified it. RTO {RecoveryDurations.Describe(r.Rto)}, RPO {RecoveryDurations.Describe(r.Rpo)}."
                : r.EndReason ?? "The drill did not complete.")
        {
            TargetId = r.TargetId, TargetName = target, SubjectId = r.Id, LinkPath = $"/recovery/{r.Id}",
            Facts = Facts(("rtoSeconds", r.Rto?.TotalSeconds.ToString("0.###", C)), ("rpoSeconds", r.Rpo?.TotalSeconds.ToString("0.###", C)), ("file", r.BackupFileName)),
            NotTouched = "A drill works on a scratch database on the target's server, dropped at its end; HelloJohn's own database was not touched.",
        });
    });

    private async Task GuardAsync(string what, Guid id, Func<ConsoleDbContext, Task> raise)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await raise(db);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "The notification for {What} {Id} could not be raised", what, id);
        }
    }

    internal static Dictionary<string, string> Facts(params (string Key, string? Value)[] facts) =>
        facts.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value!);

    private static string Seconds(TimeSpan? d) => d is { } t ? RecoveryDurations.Describe(t) : "—";

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", C) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", C) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", C) + " KiB",
        _ => bytes.ToString(C) + " B",
    };
}
