using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using Humanizer;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Schedules;

/// <summary>Warns about a backup schedule that fires more often than a backup takes (runs would overlap: the next one
/// waits or is skipped), or more often than <see cref="SensibleMinimum"/> (storage fills with near-identical full
/// dumps). Saving stays possible.</summary>
public static class BackupFrequency
{
    /// <summary>Below this interval a schedule is warned about whatever a backup takes.</summary>
    public static readonly TimeSpan SensibleMinimum = TimeSpan.FromMinutes(15);

    /// <summary>How far ahead the gaps between runs are looked at: one run per minute for a day is the worst case.</summary>
    private const int OccurrencesExamined = 1500;

    /// <summary>The warning for <paramref name="cron"/> in <paramref name="timeZone"/>, or null when its runs are never
    /// closer than the last backup took nor than <see cref="SensibleMinimum"/>, or when the expression itself is invalid
    /// (the preview says why).</summary>
    public static string? Warning(string cron, string timeZone, TimeSpan? lastBackupDuration, DateTimeOffset now)
    {
        if (!CronSchedule.TryParse(cron, out var expression, out _) || CronSchedule.FindZone(timeZone) is not { } zone)
        {
            return null;
        }

        var runs = CronSchedule.Next(expression, now, zone, OccurrencesExamined);
        if (runs.Count < 2)
        {
            return null;
        }

        var shortest = runs.Zip(runs.Skip(1), (a, b) => b.Utc - a.Utc).Min();
        var every = $"This schedule starts a backup as often as every {shortest.Humanize(precision: 2)}";
        if (lastBackupDuration is { } took && shortest < took)
        {
            return $"{every}, but the last backup of this target took {took.Humanize(precision: 2)}: runs would overlap, and the later one waits or is skipped. Choose runs at least {took.Humanize(precision: 2)} apart, e.g. '0 * * * *' for hourly.";
        }

        if (shortest >= SensibleMinimum)
        {
            return null;
        }

        var perDay = (int)(TimeSpan.FromDays(1) / shortest);
        return lastBackupDuration is { } quick
            ? $"{every}. The last backup took {quick.Humanize(precision: 2)}, so runs do not overlap, but each is a full dump: up to {perDay:N0} a day fill storage with near-identical files. For a recovery point finer than {SensibleMinimum.Humanize()}, stream WAL (point-in-time recovery) instead."
            : $"{every}. No backup of this target has finished yet to measure how long one takes; backups less than {SensibleMinimum.Humanize()} apart usually overlap and fill storage with near-identical files. Choose a wider interval, e.g. '0 * * * *' for hourly.";
    }

    /// <summary>How long the newest finished backup of <paramref name="targetId"/> took, or null when none has finished.</summary>
    public static async Task<TimeSpan?> LastDurationAsync(ConsoleDbContext db, Guid targetId, CancellationToken ct)
    {
        var last = await db.Backups.AsNoTracking()
            .Where(b => b.TargetId == targetId && b.StartedAt != null && b.FinishedAt != null
                && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
            .OrderByDescending(b => b.StartedAt)
            .Select(b => new { b.StartedAt, b.FinishedAt })
            .FirstOrDefaultAsync(ct);
        return last is null ? null : last.FinishedAt!.Value - last.StartedAt!.Value;
    }
}
