using Bunit;
using HelloJohn.Console.Web.Components.Controls;

namespace HelloJohn.Console.Tests.Components;

[Trait("Capability", "Backups")]
public sealed class TimeChartTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset From = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddDays(30);

    private IRenderedComponent<TimeChart> RenderChart(TimeChartAxis axis, params TimeChartSeries[] series) =>
        Render<TimeChart>(ps => ps
            .Add(p => p.Title, "Backup size")
            .Add(p => p.From, From)
            .Add(p => p.To, To)
            .Add(p => p.Series, series)
            .Add(p => p.Axis, axis)
            .Add(p => p.TestId, "chart"));

    [Fact]
    public void Render_TwoMegabyteBackups_AxisIsInMegabytesNotAFlatLineAgainstTwenty()
    {
        var sizes = new[] { 2_000_000d, 2_200_000d };
        var cut = RenderChart(TimeChartAxis.Bytes(sizes.Max()), new TimeChartSeries("Size", "#2b4c7e", TimeChartMark.Line,
        [
            new(From.AddDays(10), sizes[0], "hellojohn_a.dump.zst\n1.9 MB"),
            new(From.AddDays(20), sizes[1], "hellojohn_b.dump.zst\n2.1 MB"),
        ]));

        var labels = cut.FindAll(".tchart-ylabel").Select(l => l.TextContent).ToList();
        Assert.Equal(["0 MB", "1 MB", "2 MB", "3 MB"], labels);
        // The taller point sits at 2.1 MB (2,200,000 bytes) of a 3 MB axis.
        var points = cut.FindAll("[data-testid=chart-point]");
        Assert.Equal(2, points.Count);
        Assert.Contains("bottom:69.9", points[1].GetAttribute("style"));
        Assert.Single(cut.FindAll("polyline"));
    }

    [Fact]
    public void Render_ThirtyDays_DateAxisHasAMondayEveryWeekNotOneLabel()
    {
        var cut = RenderChart(TimeChartAxis.Seconds(10), new TimeChartSeries("Duration", "#000", TimeChartMark.Line, [new(From.AddDays(3), 4, "x")]));

        var dates = cut.FindAll(".tchart-xlabel").Select(l => l.TextContent).ToList();
        Assert.Equal(["2 Nov", "9 Nov", "16 Nov", "23 Nov", "30 Nov"], dates);
    }

    [Fact]
    public void Render_Point_CarriesItsTooltipForHoverAndKeyboard()
    {
        var cut = RenderChart(TimeChartAxis.Seconds(200), new TimeChartSeries("Duration", "#000", TimeChartMark.Points,
            [new(To.AddDays(-1), 150, "hellojohn_c.dump.zst\ntook 2 min 30 s", "#c62828")]));

        var point = cut.Find("[data-testid=chart-point]");
        Assert.Equal("0", point.GetAttribute("tabindex"));
        Assert.Equal("hellojohn_c.dump.zst\ntook 2 min 30 s", point.GetAttribute("aria-label"));
        Assert.Contains("took 2 min 30 s", point.QuerySelector(".tchart-tip")!.TextContent);
        // Near the right edge its tooltip opens to the left, inside the chart.
        Assert.Contains("tchart-tip-left", point.QuerySelector(".tchart-tip")!.ClassName);
        Assert.Contains("#c62828", point.GetAttribute("style"));
        Assert.Equal(["0 min", "1 min", "2 min", "3 min"], cut.FindAll(".tchart-ylabel").Select(l => l.TextContent));
    }

    [Fact]
    public void Render_WeeklyBars_SpanTheirWeekOnAPercentAxis()
    {
        var cut = RenderChart(TimeChartAxis.Percent, new TimeChartSeries("Success rate", "#2e7d32", TimeChartMark.Bars,
            [new(From.AddDays(1), 80, "4 of 5 succeeded (80 %)", Until: From.AddDays(8))]));

        var bar = cut.Find("[data-testid=chart-bar]");
        Assert.Contains("height:80%", bar.GetAttribute("style"));
        Assert.Equal(["0 %", "25 %", "50 %", "75 %", "100 %"], cut.FindAll(".tchart-ylabel").Select(l => l.TextContent));
    }

    [Fact]
    public void Render_NoPoints_SaysSoInsteadOfAnEmptyFrame()
    {
        var cut = RenderChart(TimeChartAxis.Seconds(0), new TimeChartSeries("Duration", "#000", TimeChartMark.Line, []));

        Assert.Equal("Nothing in this window.", cut.Find("[data-testid=chart-empty]").TextContent);
    }
}
