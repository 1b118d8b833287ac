using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.History;

/// <summary>What the backups, verifications and recovery drills did over time, for the History page: measured sizes,
/// durations, outcomes and recovery times, counted by <see cref="HistoryRules"/>.</summary>
public sealed class HistoryService(IDbContextFactory<ConsoleDbContext> dbFactory, TimeProvider time)
{
    /// <summary>At most this many runs of each kind are read for one report (newest backups first); years of hourly backups would
    /// otherwise be loaded whole. The report says when it was cut.</summary>
    public const int MaxRuns = 20_000;

    public async Task<HistoryReport> GetAsync(HistoryQuery query, CancellationToken ct)
    {
        if (query.Window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Window, "The history window must be longer than zero.");
        }

        var to = time.GetUtcNow();
        var from = to - query.Window;
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        var backups = db.Backups.AsNoTracking().Where(b => b.CreatedAt >= from
            && b.Status != BackupStatus.Queued && b.Status != BackupStatus.Running);
        if (query.TargetId is { } target)
        {
            backups = backups.Where(b => b.TargetId == target);
        }

        if (query.Database is { } database)
        {
            backups = backups.Where(b => b.DatabaseName == database);
        }

        var rows = await backups.OrderByDescending(b => b.CreatedAt).Take(MaxRuns + 1)
            .Select(b => new BackupRunRow(b.CreatedAt, b.StartedAt, b.FinishedAt, b.FileName, b.Status, b.SizeBytes, b.ExpiredAt, b.Error))
            .ToListAsync(ct);
        var truncated = rows.Count > MaxRuns;
        var points = rows.Take(MaxRuns).Select(HistoryRules.ToPoint).OfType<BackupRunPoint>().OrderBy(p => p.At).ToList();
        var targets = db.Targets.AsNoTracking().Where(t => query.TargetId == null || t.Id == query.TargetId);
        // Weeks before the target was added are not silent weeks; backups imported from storage may be older still.
        var protectedSince = await targets.MinAsync(t => (DateTimeOffset?)t.CreatedAt, ct) ?? from;
        if (points.Count > 0 && points[0].At < protectedSince)
        {
            protectedSince = points[0].At;
        }

        return new HistoryReport(
            from,
            to,
            points,
            HistoryRules.Count(points),
            HistoryRules.Weekly(points, protectedSince > from ? protectedSince : from, to),
            await VerificationsAsync(db, query.TargetId, query.Database, from, ct),
            await DrillsAsync(db, query.TargetId, from, ct),
            HistoryRules.MedianDurationSeconds(points),
            points.LastOrDefault(p => p.Succeeded && p.SizeBytes is not null)?.SizeBytes,
            truncated);
    }

    private static async Task<IReadOnlyList<VerificationPoint>> VerificationsAsync(ConsoleDbContext db, Guid? targetId, string? database, DateTimeOffset from, CancellationToken ct)
    {
        var runs = db.Set<VerificationRun>().AsNoTracking()
            .Where(v => v.Run!.FinishedAt != null && v.Run.FinishedAt >= from && (v.Run.Status == RunStatus.Succeeded || v.Run.Status == RunStatus.Failed));
        if (targetId is { } t)
        {
            runs = runs.Where(v => v.Run!.TargetId == t);
        }

        if (database is not null)
        {
            runs = runs.Where(v => db.Backups.Any(b => b.Id == v.BackupId && b.DatabaseName == database));
        }

        var rows = await runs.OrderBy(v => v.Run!.FinishedAt).Take(MaxRuns)
            .Select(v => new { v.Run!.FinishedAt, v.Run.StartedAt, v.BackupFileName, v.Run.Status, v.Run.Error })
            .ToListAsync(ct);
        return [.. rows.Select(v => new VerificationPoint(v.FinishedAt!.Value, v.BackupFileName, v.Status == RunStatus.Succeeded,
            v.StartedAt is { } s ? (v.FinishedAt!.Value - s).TotalSeconds : null, v.Error))];
    }

    /// <summary>The databases of a deployment with backups in the last <paramref name="window"/>, the one of
    /// HELLOJOHN_DATABASE_URL (the control plane) first, then by name.</summary>
    public async Task<IReadOnlyList<string>> DatabasesAsync(Guid targetId, string? primary, TimeSpan window, CancellationToken ct)
    {
        var from = time.GetUtcNow() - window;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var names = await db.Backups.AsNoTracking().Where(b => b.TargetId == targetId && b.CreatedAt >= from && b.DatabaseName != null)
            .Select(b => b.DatabaseName!).Distinct().ToListAsync(ct);
        return [.. names.OrderBy(n => n == primary ? 0 : 1).ThenBy(n => n, StringComparer.Ordinal)];
    }

    private static async Task<IReadOnlyList<DrillPoint>> DrillsAsync(ConsoleDbContext db, Guid? targetId, DateTimeOffset from, CancellationToken ct)
    {
        var runs = db.Set<RecoveryRun>().AsNoTracking()
            .Where(r => r.Scenario == RecoveryScenario.Drill && r.EndedAt != null && r.EndedAt >= from
                && (r.Status == RecoveryRunStatus.Completed || r.Status == RecoveryRunStatus.Failed));
        if (targetId is { } t)
        {
            runs = runs.Where(r => r.TargetId == t);
        }

        var rows = await runs.OrderBy(r => r.EndedAt).Take(MaxRuns)
            .Select(r => new { r.EndedAt, r.Id, r.Status, r.Rto, r.BackupFileName, r.EndReason })
            .ToListAsync(ct);
        return [.. rows.Select(r => new DrillPoint(r.EndedAt!.Value, r.Id, r.Status == RecoveryRunStatus.Completed,
            r.Status == RecoveryRunStatus.Completed ? r.Rto?.TotalSeconds : null, r.BackupFileName, r.EndReason))];
    }
}
