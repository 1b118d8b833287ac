using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.History;

public sealed record BackupHistoryPoint(DateTimeOffset StartedAt, string FileName, BackupStatus Status, long? SizeBytes, double? DurationSeconds, long TotalRows);

public sealed record BackupHistory(IReadOnlyList<BackupHistoryPoint> Points, int Succeeded, int Failed, int PartiallyStored, double? MedianDurationSeconds, long? LatestSizeBytes);

/// <summary>What the backups did over time, for the History page: measured sizes, durations and outcomes.</summary>
public sealed class HistoryService(IDbContextFactory<ConsoleDbContext> dbFactory, TimeProvider time)
{
    public async Task<BackupHistory> BackupsAsync(Guid? targetId, TimeSpan window, CancellationToken ct)
    {
        var since = time.GetUtcNow() - window;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Backups.AsNoTracking().Where(b => b.StartedAt != null && b.StartedAt >= since && b.Status != BackupStatus.Queued && b.Status != BackupStatus.Running);
        if (targetId is { } t)
        {
            q = q.Where(b => b.TargetId == t);
        }

        // Bounded: at most one point per backup in the window, newest 500.
        var rows = await q.OrderByDescending(b => b.StartedAt).Take(500)
            .Select(b => new { b.StartedAt, b.FinishedAt, b.FileName, b.Status, b.SizeBytes, Rows = b.TableCounts.Sum(c => (long?)c.Rows) ?? 0 })
            .ToListAsync(ct);
        var points = rows.OrderBy(r => r.StartedAt)
            .Select(r => new BackupHistoryPoint(r.StartedAt!.Value, r.FileName, r.Status, r.SizeBytes, r.FinishedAt is { } f ? (f - r.StartedAt!.Value).TotalSeconds : null, r.Rows))
            .ToList();
        var durations = points.Where(p => p.Status == BackupStatus.Succeeded && p.DurationSeconds is not null).Select(p => p.DurationSeconds!.Value).Order().ToList();
        return new BackupHistory(
            points,
            points.Count(p => p.Status == BackupStatus.Succeeded),
            points.Count(p => p.Status == BackupStatus.Failed),
            points.Count(p => p.Status == BackupStatus.PartiallyStored),
            durations.Count == 0 ? null : durations[durations.Count / 2],
            points.LastOrDefault(p => p.SizeBytes is not null)?.SizeBytes);
    }
}
