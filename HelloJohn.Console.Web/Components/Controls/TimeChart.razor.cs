using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Values over a time line from <see cref="From"/> to <see cref="To"/> with a real date axis, a value axis in
/// units and a tooltip per point. Charts given the same From and To line up, so events on one can be read against the
/// others.</summary>
public partial class TimeChart
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private IReadOnlyList<double> _yTicks = [];
    private IReadOnlyList<(DateTimeOffset At, string Label)> _xTicks = [];
    private double _top = 1;

    /// <summary>The chart's heading, also its accessible name.</summary>
    [Parameter, EditorRequired]
    public string Title { get; set; } = "";

    /// <summary>Start of the time line.</summary>
    [Parameter, EditorRequired]
    public DateTimeOffset From { get; set; }

    /// <summary>End of the time line.</summary>
    [Parameter, EditorRequired]
    public DateTimeOffset To { get; set; }

    /// <summary>The series drawn, bars first, then lines, then points.</summary>
    [Parameter, EditorRequired]
    public IReadOnlyList<TimeChartSeries> Series { get; set; } = [];

    /// <summary>The value axis (unit and ticks).</summary>
    [Parameter, EditorRequired]
    public TimeChartAxis Axis { get; set; } = TimeChartAxis.Percent;

    /// <summary>Height of the plot in pixels.</summary>
    [Parameter]
    public int Height { get; set; } = 200;

    /// <summary>What the plot says when no series has a point.</summary>
    [Parameter]
    public string EmptyText { get; set; } = "Nothing in this window.";

    [Parameter]
    public string? TestId { get; set; }

    private bool HasPoints => Series.Any(s => s.Points.Count > 0);

    protected override void OnParametersSet()
    {
        var max = Series.SelectMany(s => s.Points).Select(p => p.Value).DefaultIfEmpty(0).Max();
        _yTicks = Axis.Ticks(max);
        _top = Math.Max(_yTicks[^1], double.Epsilon);
        _xTicks = TimeAxis.Ticks(From, To);
    }

    private double X(DateTimeOffset at)
    {
        var span = (To - From).TotalSeconds;
        return span <= 0 ? 50 : Math.Clamp((at - From).TotalSeconds / span * 100, 0, 100);
    }

    private double Y(double value) => Math.Clamp(value / _top * 100, 0, 100);

    private double BarLeft(TimeChartPoint p) => X(p.At) + BarInset(p);

    private double BarWidth(TimeChartPoint p) => Math.Max(X(p.Until ?? p.At) - X(p.At) - 2 * BarInset(p), 0.4);

    // A gap between neighbouring bars: a sixth of the bar's own span.
    private double BarInset(TimeChartPoint p) => (X(p.Until ?? p.At) - X(p.At)) / 6;

    private string LinePoints(TimeChartSeries s)
    {
        var text = new StringBuilder();
        foreach (var p in s.Points.OrderBy(p => p.At))
        {
            text.Append(C, $"{X(p.At) * 10:0.#},{1000 - Y(p.Value) * 10:0.#} ");
        }

        return text.ToString().TrimEnd();
    }

    private static string Pct(double value) => value.ToString("0.###", C) + "%";

    // Tooltips open away from the nearer edge, so none leaves the chart.
    private static string TipSide(double x) => x > 60 ? "tchart-tip-left" : "";
}
