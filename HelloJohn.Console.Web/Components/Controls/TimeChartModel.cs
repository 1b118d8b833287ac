using System.Globalization;
using HelloJohn.Console.Core.History;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>How a series is drawn on a <see cref="TimeChart"/>.</summary>
public enum TimeChartMark
{
    /// <summary>Points joined by a line.</summary>
    Line,
    /// <summary>Points only (events such as verifications and drills).</summary>
    Points,
    /// <summary>A bar from each point's time to its <see cref="TimeChartPoint.Until"/> (a week's success rate).</summary>
    Bars,
}

/// <summary>One value at one time. <paramref name="Tooltip"/> is what hovering or focusing it shows; <paramref name="Color"/>
/// overrides the series' colour for this point (a failed run in red).</summary>
public sealed record TimeChartPoint(DateTimeOffset At, double Value, string Tooltip, string? Color = null, DateTimeOffset? Until = null);

public sealed record TimeChartSeries(string Name, string Color, TimeChartMark Mark, IReadOnlyList<TimeChartPoint> Points);

/// <summary>The value axis: ticks are chosen in <see cref="Unit"/>s (a value is divided by <see cref="UnitSize"/>),
/// so a 2 MB backup reads "2 MB" against ticks of 0.5 MB, not a flat line against 0–20.</summary>
public sealed record TimeChartAxis(string Unit, double UnitSize, double? FixedMax = null)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static TimeChartAxis Percent { get; } = new("%", 1, 100);

    /// <summary>Bytes, shown in the unit that suits the largest value.</summary>
    public static TimeChartAxis Bytes(double maxBytes)
    {
        var (unit, size) = Readable.SizeUnitFor(maxBytes);
        return new TimeChartAxis(unit, size);
    }

    /// <summary>Seconds, shown as s, min or h by the largest value.</summary>
    public static TimeChartAxis Seconds(double maxSeconds) =>
        maxSeconds < 120 ? new TimeChartAxis("s", 1) : maxSeconds < 7200 ? new TimeChartAxis("min", 60) : new TimeChartAxis("h", 3600);

    public string Label(double value)
    {
        var v = value / UnitSize;
        var text = v.ToString(Math.Abs(v) >= 100 || v == Math.Floor(v) ? "0" : "0.##", C);
        return Unit == "%" ? text + " %" : $"{text} {Unit}";
    }

    /// <summary>Evenly spaced round ticks from 0 to at least <paramref name="max"/> (in the value's own scale).</summary>
    public IReadOnlyList<double> Ticks(double max)
    {
        var top = FixedMax ?? max;
        var scaled = top / UnitSize;
        if (scaled <= 0 || double.IsNaN(scaled))
        {
            scaled = 1;
        }

        var rough = scaled / 4;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1d, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= rough);
        var count = (int)Math.Ceiling(scaled / step - 1e-9);
        return [.. Enumerable.Range(0, count + 1).Select(i => i * step * UnitSize)];
    }
}

/// <summary>Date ticks for a time axis from <c>from</c> to <c>to</c>, at a step that keeps them readable: hours over a
/// day or two, days over a week, Mondays over a month or two, first days of months beyond. Times are UTC.</summary>
public static class TimeAxis
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static IReadOnlyList<(DateTimeOffset At, string Label)> Ticks(DateTimeOffset from, DateTimeOffset to)
    {
        var span = to - from;
        var start = from.UtcDateTime;
        IEnumerable<DateTime> ticks;
        Func<DateTime, string> label;
        if (span <= TimeSpan.FromHours(36))
        {
            var first = start.Date.AddHours(Math.Ceiling(start.TimeOfDay.TotalHours / 6) * 6);
            ticks = Every(first, TimeSpan.FromHours(6));
            label = t => t.Hour == 0 ? t.ToString("ddd d MMM", C) : t.ToString("HH:mm", C);
        }
        else if (span <= TimeSpan.FromDays(10))
        {
            ticks = Every(start.Date.AddDays(start.TimeOfDay > TimeSpan.Zero ? 1 : 0), TimeSpan.FromDays(1));
            label = t => t.ToString("ddd d MMM", C);
        }
        else if (span <= TimeSpan.FromDays(180))
        {
            var week = HistoryRules.WeekStart(from).UtcDateTime;
            var monday = week < start ? week.AddDays(7) : week;
            ticks = Every(monday, TimeSpan.FromDays(span <= TimeSpan.FromDays(60) ? 7 : 14));
            label = t => t.ToString("d MMM", C);
        }
        else
        {
            var month = new DateTime(start.Year, start.Month, 1, 0, 0, 0, DateTimeKind.Utc);
            ticks = Enumerable.Range(1, 60).Select(month.AddMonths).Where((_, i) => span <= TimeSpan.FromDays(400) || i % 2 == 1);
            label = t => t.ToString(t.Month == 1 ? "MMM yyyy" : "MMM", C);
        }

        return [.. ticks.TakeWhile(t => t <= to.UtcDateTime).Where(t => t >= start)
            .Select(t => (new DateTimeOffset(t, TimeSpan.Zero), label(t)))];

        static IEnumerable<DateTime> Every(DateTime first, TimeSpan step)
        {
            for (var t = first; ; t += step)
            {
                yield return t;
            }
        }
    }
}
