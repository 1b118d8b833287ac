using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Core.History;

/// <summary>The counting rules of the History page, kept apart from the database so they can be read and tested:
/// an expired backup succeeded (retention removing it later is the policy working), a partially stored one is not a
/// success yet, a cancelled one is neither, and weeks start on Monday, UTC.</summary>
public static class HistoryRules
{
    /// <summary>How history counts a backup in <paramref name="status"/>; null while it has not finished.</summary>
    public static HistoryOutcome? OutcomeOf(BackupStatus status) => status switch
    {
        BackupStatus.Succeeded => HistoryOutcome.Succeeded,
        BackupStatus.Expired => HistoryOutcome.SucceededThenExpired,
        BackupStatus.PartiallyStored => HistoryOutcome.PartiallyStored,
        BackupStatus.Failed => HistoryOutcome.Failed,
        BackupStatus.Cancelled => HistoryOutcome.Cancelled,
        _ => null,
    };

    public static BackupCounts Count(IEnumerable<BackupRunPoint> runs)
    {
        int succeeded = 0, expired = 0, partial = 0, failed = 0, cancelled = 0;
        foreach (var run in runs)
        {
            switch (run.Outcome)
            {
                case HistoryOutcome.Succeeded:
                    succeeded++;
                    break;
                case HistoryOutcome.SucceededThenExpired:
                    succeeded++;
                    expired++;
                    break;
                case HistoryOutcome.PartiallyStored:
                    partial++;
                    break;
                case HistoryOutcome.Failed:
                    failed++;
                    break;
                default:
                    cancelled++;
                    break;
            }
        }

        return new BackupCounts(succeeded, expired, partial, failed, cancelled);
    }

    /// <summary>Monday 00:00 UTC of the week holding <paramref name="at"/>.</summary>
    public static DateTimeOffset WeekStart(DateTimeOffset at)
    {
        var day = at.UtcDateTime.Date;
        var sinceMonday = ((int)day.DayOfWeek + 6) % 7;
        return new DateTimeOffset(day.AddDays(-sinceMonday), TimeSpan.Zero);
    }

    /// <summary>Every week from the one holding <paramref name="from"/> to the one holding <paramref name="to"/>, with the
    /// runs that started in it; weeks without runs are listed with zero counts, so a silent week shows. Pass the time the
    /// target was added as <paramref name="from"/> when it is later than the window's start: before it nothing could run.</summary>
    public static IReadOnlyList<WeeklySuccess> Weekly(IEnumerable<BackupRunPoint> runs, DateTimeOffset from, DateTimeOffset to)
    {
        var byWeek = runs.GroupBy(r => WeekStart(r.At)).ToDictionary(g => g.Key, g => Count(g));
        var weeks = new List<WeeklySuccess>();
        for (var week = WeekStart(from); week <= to; week = week.AddDays(7))
        {
            weeks.Add(new WeeklySuccess(week, byWeek.GetValueOrDefault(week) ?? new BackupCounts(0, 0, 0, 0, 0)));
        }

        return weeks;
    }

    /// <summary>The median duration of the successful runs (expired ones included), in seconds.</summary>
    public static double? MedianDurationSeconds(IEnumerable<BackupRunPoint> runs)
    {
        var durations = runs.Where(r => r.Succeeded && r.DurationSeconds is not null).Select(r => r.DurationSeconds!.Value).Order().ToList();
        if (durations.Count == 0)
        {
            return null;
        }

        var middle = durations.Count / 2;
        return durations.Count % 2 == 1 ? durations[middle] : (durations[middle - 1] + durations[middle]) / 2;
    }

    internal static BackupRunPoint? ToPoint(BackupRunRow row)
    {
        if (OutcomeOf(row.Status) is not { } outcome)
        {
            return null;
        }

        // A backup cancelled while queued never started: it sits on the line where it was asked for.
        var at = row.StartedAt ?? row.CreatedAt;
        double? duration = row.StartedAt is { } s && row.FinishedAt is { } f && f >= s ? (f - s).TotalSeconds : null;
        return new BackupRunPoint(at, row.FileName, outcome, row.SizeBytes, duration, row.ExpiredAt, row.Error);
    }
}
