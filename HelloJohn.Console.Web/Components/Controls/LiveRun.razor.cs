using System.Globalization;
using HelloJohn.Console.Core.Runs;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>One queued or running run, live: its phase, progress, time since it started and a Cancel button. It follows
/// the run through <see cref="RunProgressNotifier"/> (which carries events from every console instance), so it needs no
/// polling; the page that lists the run reloads it when the run ends.</summary>
public sealed partial class LiveRun
{
    private RunStatus _status;
    private string? _phase;
    private long _done;
    private long? _total;
    private bool _cancelling;
    private bool _subscribed;
    private bool _live;
    private PeriodicTimer? _clock;
    private CancellationTokenSource? _clockStop;

    [Inject] private RunProgressNotifier Notifier { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    /// <summary>The run shown.</summary>
    [Parameter, EditorRequired]
    public Guid RunId { get; set; }

    /// <summary>Its status when the page read it.</summary>
    [Parameter]
    public RunStatus Status { get; set; } = RunStatus.Running;

    /// <summary>Its phase when the page read it, in its kind's words.</summary>
    [Parameter]
    public string? Phase { get; set; }

    /// <summary>Its progress when the page read it, in its kind's unit.</summary>
    [Parameter]
    public long Done { get; set; }

    [Parameter]
    public long? Total { get; set; }

    /// <summary>When it started; the elapsed time is shown from it.</summary>
    [Parameter]
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>How a phase reads ("restoring"); the phase's own name, in lower case, when not given.</summary>
    [Parameter]
    public Func<string?, string>? PhaseText { get; set; }

    /// <summary>How progress reads ("3 MB written", "2 of 7 tables loaded"); nothing when it returns null.</summary>
    [Parameter]
    public Func<long, long?, string?>? ProgressText { get; set; }

    [Parameter]
    public string ProgressTestId { get; set; } = "run-progress-text";

    /// <summary>Whether to say about how long is left, at the pace since it started, against <see cref="Total"/>.</summary>
    [Parameter]
    public bool ShowTimeLeft { get; set; }

    /// <summary>Whether the signed-in user may cancel it.</summary>
    [Parameter]
    public bool CanCancel { get; set; }

    /// <summary>Asks the run's service to cancel it. The button stays disabled until the run says how it ended.</summary>
    [Parameter]
    public EventCallback OnCancel { get; set; }

    [Parameter]
    public string CancelTestId { get; set; } = "cancel-run";

    private double Percent => _total is > 0 ? Math.Min(100, 100.0 * _done / _total.Value) : 0;

    protected override void OnParametersSet()
    {
        _status = Status;
        _phase = Phase;
        _done = Math.Max(_done, Done);
        _total = Total ?? _total;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        // Rendered before the circuit is live (prerendering) the button would swallow a click: it is enabled from here on.
        _live = true;
        Notifier.Changed += OnProgress;
        _subscribed = true;
        // The clock only redraws the elapsed time; what the run does comes through the notifier.
        _clockStop = new CancellationTokenSource();
        _clock = new PeriodicTimer(TimeSpan.FromSeconds(1), Time);
        _ = TickAsync(_clock, _clockStop.Token);
        StateHasChanged();
    }

    private async Task TickAsync(PeriodicTimer clock, CancellationToken ct)
    {
        try
        {
            while (await clock.WaitForNextTickAsync(ct) && _status is RunStatus.Queued or RunStatus.Running)
            {
                await InvokeAsync(StateHasChanged);
            }
        }
        catch (OperationCanceledException)
        {
            // The component was removed.
        }
    }

    private void OnProgress(RunProgress progress)
    {
        if (progress.RunId != RunId)
        {
            return;
        }

        _ = InvokeAsync(() =>
        {
            _status = progress.Status;
            _phase = progress.Phase ?? _phase;
            _done = progress.Done;
            _total = progress.Total ?? _total;
            StateHasChanged();
        });
    }

    private async Task CancelAsync()
    {
        _cancelling = true;
        try
        {
            await OnCancel.InvokeAsync();
        }
        finally
        {
            // Stays disabled until the page reads the run again; the page says what the Cancel did.
            _cancelling = _status is RunStatus.Queued or RunStatus.Running;
        }
    }

    private string Describe()
    {
        var phase = PhaseText?.Invoke(_phase) ?? (_phase ?? _status.ToString()).ToLowerInvariant();
        return _status == RunStatus.Running && StartedAt is { } started ? $"{phase} · {Elapsed(Time.GetUtcNow() - started)}" : phase;
    }

    internal static string Elapsed(TimeSpan span)
    {
        var d = span < TimeSpan.Zero ? TimeSpan.Zero : span;
        var c = CultureInfo.InvariantCulture;
        return d.TotalHours >= 1 ? string.Create(c, $"{(int)d.TotalHours} h {d.Minutes:00} min")
            : d.TotalMinutes >= 1 ? string.Create(c, $"{(int)d.TotalMinutes} min {d.Seconds:00} s")
            : string.Create(c, $"{(int)d.TotalSeconds} s");
    }

    public void Dispose()
    {
        if (_subscribed)
        {
            Notifier.Changed -= OnProgress;
        }

        _clockStop?.Cancel();
        _clockStop?.Dispose();
        _clock?.Dispose();
    }
}
