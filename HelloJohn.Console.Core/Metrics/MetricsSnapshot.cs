using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Metrics;

public sealed record TargetBackupFigures(string Target, DateTimeOffset? FinishedAt, DateTimeOffset? StartedAt, long? SizeBytes);

public sealed record TargetVerificationFigures(string Target, DateTimeOffset FinishedAt, bool Passed);

public sealed record TargetJwksFigures(string Target, DateTimeOffset CheckedAt, JwksCheckOutcome Outcome);

/// <summary>Every figure /metrics shows, read from the console database in one go, so each console instance sharing it
/// reports the same truth whichever ran the work.</summary>
public sealed record MetricsSnapshot(
    DateTimeOffset MeasuredAt,
    IReadOnlyList<string> Targets,
    IReadOnlyList<TargetBackupFigures> LastBackups,
    IReadOnlyList<TargetVerificationFigures> LastVerifications,
    IReadOnlyList<TargetJwksFigures> LastJwksChecks,
    IReadOnlyDictionary<(string Kind, string State), int> ActiveRuns,
    IReadOnlyDictionary<(string Target, string Kind), long> Failures,
    IReadOnlyDictionary<string, long> StorageErrors,
    IReadOnlyDictionary<string, long> NotificationFailures)
{
    /// <summary>The runs counted from the shared runs table, with the <c>kind</c> label each is published under (backups
    /// and drills are counted from their own tables).</summary>
    private static readonly (RunKind Kind, string Name)[] RunKinds =
    [
        (RunKind.Verification, "verification"),
        (RunKind.Restore, "restore"),
        (RunKind.BaseBackup, "base_backup"),
        (RunKind.PitrRestore, "pitr_restore"),
    ];

    public static MetricsSnapshot Empty(DateTimeOffset at) => new(at, [], [], [], [], new Dictionary<(string, string), int>(),
        new Dictionary<(string, string), long>(), new Dictionary<string, long>(), new Dictionary<string, long>());

    /// <summary>Aggregated in the database (never the catalog in memory). Synchronous: observable instruments are read
    /// on the scrape's thread.</summary>
    public static MetricsSnapshot Load(ConsoleDbContext db, DateTimeOffset now)
    {
        var targets = db.Targets.AsNoTracking().Select(t => new { t.Id, t.Name }).ToList();
        var names = targets.ToDictionary(t => t.Id, t => t.Name);
        string Name(Guid id) => names.GetValueOrDefault(id, id.ToString());

        var lastBackups = db.Backups.AsNoTracking().Where(b => b.Status == BackupStatus.Succeeded)
            .GroupBy(b => b.TargetId)
            .Select(g => g.OrderByDescending(b => b.StartedAt).Select(b => new { b.TargetId, b.StartedAt, b.FinishedAt, b.SizeBytes }).First())
            .ToList();
        var runs = db.Set<RunRecord>().AsNoTracking();
        var lastVerifications = runs
            .Where(r => r.Kind == RunKind.Verification && (r.Status == RunStatus.Succeeded || r.Status == RunStatus.Failed) && r.FinishedAt != null && r.TargetId != null)
            .GroupBy(r => r.TargetId!.Value)
            .Select(g => g.OrderByDescending(r => r.FinishedAt).Select(r => new { TargetId = r.TargetId!.Value, r.FinishedAt, r.Status }).First())
            .ToList();
        var lastJwks = db.Set<JwksCheck>().AsNoTracking()
            .GroupBy(c => c.TargetId)
            .Select(g => g.OrderByDescending(c => c.CheckedAt).Select(c => new { c.TargetId, c.CheckedAt, c.Outcome }).First())
            .ToList();

        var active = new Dictionary<(string, string), int>();
        void Active(string kind, IEnumerable<(string State, int Count)> rows)
        {
            foreach (var state in new[] { "queued", "running" })
            {
                active[(kind, state)] = rows.Where(r => r.State == state).Sum(r => r.Count);
            }
        }

        Active("backup", db.Backups.AsNoTracking().Where(b => b.Status == BackupStatus.Queued || b.Status == BackupStatus.Running)
            .GroupBy(b => b.Status).Select(g => new { g.Key, Count = g.Count() }).AsEnumerable()
            .Select(x => (x.Key == BackupStatus.Queued ? "queued" : "running", x.Count)));
        foreach (var (kind, name) in RunKinds)
        {
            Active(name, runs.Where(r => r.Kind == kind && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running))
                .GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.Count() }).AsEnumerable()
                .Select(x => (x.Key == RunStatus.Queued ? "queued" : "running", x.Count)));
        }

        var failures = new Dictionary<(string, string), long>();
        foreach (var t in targets)
        {
            foreach (var kind in (string[])["backup", .. RunKinds.Select(k => k.Name), "drill"])
            {
                failures[(t.Name, kind)] = 0;
            }
        }

        void Failed(string kind, IEnumerable<(Guid Target, int Count)> rows)
        {
            foreach (var (target, count) in rows)
            {
                failures[(Name(target), kind)] = count;
            }
        }

        Failed("backup", db.Backups.AsNoTracking().Where(b => b.Status == BackupStatus.Failed).GroupBy(b => b.TargetId)
            .Select(g => new { g.Key, Count = g.Count() }).AsEnumerable().Select(x => (x.Key, x.Count)));
        foreach (var (kind, name) in RunKinds)
        {
            Failed(name, runs.Where(r => r.Kind == kind && r.Status == RunStatus.Failed && r.TargetId != null).GroupBy(r => r.TargetId!.Value)
                .Select(g => new { g.Key, Count = g.Count() }).AsEnumerable().Select(x => (x.Key, x.Count)));
        }
        Failed("drill", db.Set<RecoveryRun>().AsNoTracking().Where(r => r.Scenario == RecoveryScenario.Drill && r.Status == RecoveryRunStatus.Failed)
            .GroupBy(r => r.TargetId).Select(g => new { g.Key, Count = g.Count() }).AsEnumerable().Select(x => (x.Key, x.Count)));

        var storageCode = NotificationEvents.Code(NotificationEventKind.StorageTierFailing);
        var storageErrors = db.Set<NotificationEventRecord>().AsNoTracking().Where(e => e.Kind == storageCode && e.Store != null)
            .GroupBy(e => e.Store!).Select(g => new { g.Key, Count = g.LongCount() }).ToDictionary(x => x.Key, x => x.Count);
        var channels = db.Set<NotificationChannel>().AsNoTracking().Select(c => new { c.Id, c.Name }).ToList();
        var failedDeliveries = db.Set<NotificationDelivery>().AsNoTracking().Where(d => d.Status == DeliveryStatus.Failed)
            .GroupBy(d => d.ChannelId).Select(g => new { g.Key, Count = g.LongCount() }).ToDictionary(x => x.Key, x => x.Count);

        return new MetricsSnapshot(
            now,
            [.. targets.Select(t => t.Name)],
            [.. lastBackups.Select(b => new TargetBackupFigures(Name(b.TargetId), b.FinishedAt, b.StartedAt, b.SizeBytes))],
            [.. lastVerifications.Select(v => new TargetVerificationFigures(Name(v.TargetId), v.FinishedAt!.Value, v.Status == RunStatus.Succeeded))],
            [.. lastJwks.Select(j => new TargetJwksFigures(Name(j.TargetId), j.CheckedAt, j.Outcome))],
            active,
            failures,
            storageErrors,
            channels.ToDictionary(c => c.Name, c => failedDeliveries.GetValueOrDefault(c.Id)));
    }
}
