using System.Diagnostics.CodeAnalysis;
using Cronos;

namespace HelloJohn.Console.Core.Schedules;

/// <summary>One occurrence of a schedule, in the schedule's zone and in UTC.</summary>
public sealed record CronOccurrence(DateTimeOffset Local, DateTimeOffset Utc);

/// <summary>Cron parsing and previews with Cronos, the library Hangfire itself uses, so what is previewed is what runs.
/// Five fields (minute hour day-of-month month day-of-week) or a macro such as <c>@daily</c>.</summary>
public static class CronSchedule
{
    public static bool TryParse(string? expression, [NotNullWhen(true)] out CronExpression? cron, [NotNullWhen(false)] out string? error)
    {
        cron = null;
        var text = expression?.Trim() ?? "";
        if (text.Length == 0)
        {
            error = "The cron expression is empty. Use five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * *' for 02:00 every day.";
            return false;
        }

        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (!text.StartsWith('@') && fields != 5)
        {
            error = $"'{text}' has {fields} field{(fields == 1 ? "" : "s")}; a cron expression has five: minute hour day-of-month month day-of-week, e.g. '0 2 * * *' for 02:00 every day.";
            return false;
        }

        try
        {
            cron = CronExpression.Parse(text, CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            error = $"'{text}' is not a valid cron expression: {e.Message.TrimEnd('.')}. Use five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * *' for 02:00 every day.";
            return false;
        }

        // Parsing accepts dates that never come, such as 30 February.
        if (cron.GetNextOccurrence(DateTimeOffset.UnixEpoch, TimeZoneInfo.Utc) is null)
        {
            error = $"'{text}' never fires (no such date exists). Pick a day that occurs, e.g. '0 2 1 * *' for the 1st of each month.";
            cron = null;
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>The next <paramref name="count"/> times after <paramref name="from"/>, computed in <paramref name="zone"/>
    /// (a time skipped by a DST change fires at the change, a repeated time fires once).</summary>
    public static IReadOnlyList<CronOccurrence> Next(CronExpression cron, DateTimeOffset from, TimeZoneInfo zone, int count = 5)
    {
        var result = new List<CronOccurrence>(count);
        var cursor = from;
        while (result.Count < count && cron.GetNextOccurrence(cursor, zone) is { } next)
        {
            result.Add(new CronOccurrence(next, next.ToUniversalTime()));
            cursor = next;
        }

        return result;
    }

    public static TimeZoneInfo? FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id.Trim());
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }
}
