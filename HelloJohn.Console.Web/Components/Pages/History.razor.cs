using System.Globalization;
using HelloJohn.Console.Core.History;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Web.Components.Controls;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Pages;

/// <summary>History as a team lead reads it: weekly success rate, size and duration over time, and the verifications and
/// drills that prove the backups restore, all on one time line per target.</summary>
public partial class History
{
    private const string Success = "#2e7d32";
    private const string Failure = "#c62828";
    private const string Partial = "#ef6c00";
    private const string Muted = "#9e9e9e";
    private const string Primary = "#2b4c7e";
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private IReadOnlyList<TargetSummary> _targets = [];
    private Guid? _targetId;
    private IReadOnlyList<string> _databases = [];
    private string? _database;
    private int _days = 30;
    private HistoryReport? _report;
    private IReadOnlyList<TimeChartSeries> _weekly = [];
    private IReadOnlyList<TimeChartSeries> _sizes = [];
    private IReadOnlyList<TimeChartSeries> _durations = [];
    private IReadOnlyList<TimeChartSeries> _proofs = [];
    private TimeChartAxis _sizeAxis = TimeChartAxis.Bytes(0);
    private TimeChartAxis _durationAxis = TimeChartAxis.Seconds(0);
    private TimeChartAxis _proofAxis = TimeChartAxis.Seconds(0);

    [Inject] private HistoryService HistoryService { get; set; } = default!;
    [Inject] private TargetService Targets { get; set; } = default!;

    private string TargetName => (_targetId is { } id ? _targets.FirstOrDefault(t => t.Id == id)?.Name ?? "This target" : "Every target")
        + (_database is { } d ? $" ({d})" : "");

    protected override async Task OnInitializedAsync()
    {
        _targets = await Targets.ListAsync(CancellationToken.None);
        _targetId = (await Targets.GetDefaultAsync(CancellationToken.None))?.Id;
        await LoadDatabasesAsync();
        await LoadAsync();
    }

    private async Task ChangeWindowAsync(int days)
    {
        _days = days;
        await LoadAsync();
    }

    private async Task ChangeTargetAsync(Guid? targetId)
    {
        _targetId = targetId;
        await LoadDatabasesAsync();
        await LoadAsync();
    }

    private async Task ChangeDatabaseAsync(string? database)
    {
        _database = database;
        await LoadAsync();
    }

    /// <summary>A deployment backed up as a set has a line per database: the control plane's is shown first, since
    /// its sizes and durations drawn together with every tenant's would say nothing about either.</summary>
    private async Task LoadDatabasesAsync()
    {
        if (_targetId is not { } id)
        {
            (_databases, _database) = ([], null);
            return;
        }

        var primary = (await Targets.GetAsync(id, CancellationToken.None)).Selection.Databases.FirstOrDefault();
        _databases = await HistoryService.DatabasesAsync(id, primary, TimeSpan.FromDays(400), CancellationToken.None);
        _database = _databases.Count > 1 ? _databases[0] : null;
    }

    private async Task LoadAsync()
    {
        var report = await HistoryService.GetAsync(new HistoryQuery(_targetId, TimeSpan.FromDays(_days), _database), CancellationToken.None);
        (_weekly, _sizes, _durations, _proofs) = (WeeklySeries(report), SizeSeries(report), DurationSeries(report), ProofSeries(report));
        _sizeAxis = TimeChartAxis.Bytes(Max(_sizes));
        _durationAxis = TimeChartAxis.Seconds(Max(_durations));
        _proofAxis = TimeChartAxis.Seconds(Max(_proofs));
        _report = report;
    }

    private static double Max(IEnumerable<TimeChartSeries> series) => series.SelectMany(s => s.Points).Select(p => p.Value).DefaultIfEmpty(0).Max();

    internal static IReadOnlyList<TimeChartSeries> WeeklySeries(HistoryReport report) =>
    [
        new("Success rate", Success, TimeChartMark.Bars, [.. report.Weeks.Select(w =>
        {
            var c = w.Counts;
            var rate = c.SuccessRate ?? 0;
            var color = c.Attempted == 0 ? Muted : rate >= 1 ? Success : rate >= 0.5 ? Partial : Failure;
            return new TimeChartPoint(w.WeekStart, rate * 100, WeekTooltip(w), color, w.WeekStart.AddDays(7));
        })]),
    ];

    internal static IReadOnlyList<TimeChartSeries> SizeSeries(HistoryReport report) =>
    [
        new("Size", Primary, TimeChartMark.Line, [.. report.Backups.Where(p => p.Succeeded && p.SizeBytes is not null)
            .Select(p => new TimeChartPoint(p.At, p.SizeBytes!.Value, RunTooltip(p), p.Outcome == HistoryOutcome.SucceededThenExpired ? Muted : null))]),
    ];

    internal static IReadOnlyList<TimeChartSeries> DurationSeries(HistoryReport report) =>
    [
        new("Succeeded", Primary, TimeChartMark.Line, [.. report.Backups.Where(p => p.Succeeded && p.DurationSeconds is not null)
            .Select(p => new TimeChartPoint(p.At, p.DurationSeconds!.Value, RunTooltip(p), p.Outcome == HistoryOutcome.SucceededThenExpired ? Muted : null))]),
        new("Did not succeed", Failure, TimeChartMark.Points, [.. report.Backups.Where(p => !p.Succeeded)
            .Select(p => new TimeChartPoint(p.At, p.DurationSeconds ?? 0, RunTooltip(p), p.Outcome == HistoryOutcome.Failed ? Failure : p.Outcome == HistoryOutcome.PartiallyStored ? Partial : Muted))]),
    ];

    internal static IReadOnlyList<TimeChartSeries> ProofSeries(HistoryReport report) =>
    [
        new("Verification passed", Success, TimeChartMark.Points, [.. report.Verifications.Where(v => v.Passed)
            .Select(v => new TimeChartPoint(v.At, v.DurationSeconds ?? 0, VerificationTooltip(v)))]),
        new("Verification failed", Failure, TimeChartMark.Points, [.. report.Verifications.Where(v => !v.Passed)
            .Select(v => new TimeChartPoint(v.At, v.DurationSeconds ?? 0, VerificationTooltip(v)))]),
        new("Drill RTO", Primary, TimeChartMark.Line, [.. report.Drills
            .Select(d => new TimeChartPoint(d.At, d.RtoSeconds ?? 0, DrillTooltip(d), d.Completed ? null : Failure))]),
    ];

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("ddd yyyy-MM-dd HH:mm", C) + " UTC";

    internal static string WeekTooltip(WeeklySuccess week)
    {
        var c = week.Counts;
        var lines = new List<string> { $"Week of {week.WeekStart.UtcDateTime.ToString("ddd d MMM yyyy", C)}" };
        if (c.Attempted == 0)
        {
            lines.Add(c.Cancelled > 0 ? $"no backup completed ({c.Cancelled} cancelled)" : "no backup ran");
            return string.Join('\n', lines);
        }

        lines.Add(string.Create(C, $"{c.Succeeded} of {c.Attempted} succeeded ({c.SuccessRate * 100:0.#} %)"));
        if (c.ExpiredSince > 0)
        {
            lines.Add($"{c.ExpiredSince} of them since expired by retention");
        }

        if (c.Failed > 0)
        {
            lines.Add($"{c.Failed} failed");
        }

        if (c.PartiallyStored > 0)
        {
            lines.Add($"{c.PartiallyStored} partially stored");
        }

        if (c.Cancelled > 0)
        {
            lines.Add($"{c.Cancelled} cancelled");
        }

        return string.Join('\n', lines);
    }

    internal static string RunTooltip(BackupRunPoint p)
    {
        var lines = new List<string> { p.FileName, When(p.At), OutcomeText(p.Outcome) };
        var measured = new List<string>();
        if (p.SizeBytes is { } size)
        {
            measured.Add(Readable.Size(size));
        }

        if (p.DurationSeconds is { } seconds)
        {
            measured.Add("took " + Readable.Duration(TimeSpan.FromSeconds(seconds)));
        }

        if (measured.Count > 0)
        {
            lines.Add(string.Join(" · ", measured));
        }

        if (p.ExpiredAt is { } expired)
        {
            lines.Add($"expired {expired.UtcDateTime.ToString("yyyy-MM-dd", C)} by retention");
        }

        if (p.Error is { } error)
        {
            lines.Add(error);
        }

        return string.Join('\n', lines);
    }

    private static string VerificationTooltip(VerificationPoint v) => string.Join('\n', new[]
    {
        $"Verification {(v.Passed ? "passed" : "failed")}",
        v.BackupFileName,
        When(v.At),
        v.DurationSeconds is { } s ? "took " + Readable.Duration(TimeSpan.FromSeconds(s)) : null,
        v.Error,
    }.OfType<string>());

    private static string DrillTooltip(DrillPoint d) => string.Join('\n', new[]
    {
        d.Completed ? $"Recovery drill: RTO {Readable.Duration(TimeSpan.FromSeconds(d.RtoSeconds ?? 0))}" : "Recovery drill failed",
        When(d.At),
        d.BackupFileName is { } file ? "restored " + file : null,
        d.Completed ? null : d.EndReason,
    }.OfType<string>());

    internal static string OutcomeText(HistoryOutcome outcome) => outcome switch
    {
        HistoryOutcome.Succeeded => "succeeded",
        HistoryOutcome.SucceededThenExpired => "succeeded, expired since",
        HistoryOutcome.PartiallyStored => "partially stored",
        HistoryOutcome.Failed => "failed",
        _ => "cancelled",
    };

    private static string OtherOutcomes(BackupCounts c)
    {
        var parts = new List<string>();
        if (c.PartiallyStored > 0)
        {
            parts.Add($"{c.PartiallyStored} partially stored");
        }

        if (c.Cancelled > 0)
        {
            parts.Add($"{c.Cancelled} cancelled");
        }

        return parts.Count == 0 ? "nothing partially stored or cancelled" : string.Join(", ", parts);
    }
}
