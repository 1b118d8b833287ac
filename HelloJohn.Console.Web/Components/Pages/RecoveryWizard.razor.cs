using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

/// <summary>One recovery run, resumable from any browser: the stepper, the open step, its live log, RPO and RTO.</summary>
public partial class RecoveryWizard : IAsyncDisposable
{
    private RecoveryRunView? _view;
    private IReadOnlyList<BackupCandidate> _candidates = [];
    private string? _selectedKey;
    private bool _notFound;
    private bool _canRun;
    private bool _canDownloadKey;
    private bool _allLog;
    private string? _error;
    private string? _keyDataUrl;
    private Actor _actor = Actor.System;
    private RunWatch? _watch;

    [Parameter] public Guid RunId { get; set; }

    [Inject] private RecoveryService RecoveryService { get; set; } = default!;
    [Inject] private RunProgressNotifier Notifier { get; set; } = default!;
    [Inject] private SigningKeyService SigningKeys { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private string? SelectedKey => _selectedKey ?? _view?.Current?.Key ?? _view?.Steps.LastOrDefault()?.Key;

    private RecoveryStepView? SelectedStep => _view?.Steps.FirstOrDefault(s => s.Key == SelectedKey);

    private string RpoText => _view!.Run.Rpo is { } rpo ? RecoveryDurations.Describe(rpo)
        : _view.Run is { RecoveryPointAt: { } point } run ? "≈ " + RecoveryDurations.Describe((run.IncidentAt ?? run.StartedAt) - point)
        : "—";

    private string RpoCaption => _view!.Run switch
    {
        { Rpo: not null, IncidentSource: { } source } => RecoveryDurations.Describe(source),
        { RecoveryPointAt: not null, IncidentAt: null } => "counted to the start of this run unless an earlier incident is detected; final once the run completes",
        { RecoveryPointAt: not null } => "from the restored point to the incident; final once the run completes",
        _ => "known once a backup or time is chosen",
    };

    private string RtoText => _view!.Run.Rto is { } rto ? RecoveryDurations.Describe(rto)
        : _view.Run.Status == RecoveryRunStatus.Active ? RecoveryDurations.Describe(DateTimeOffset.UtcNow - _view.Run.StartedAt) + " so far"
        : "—";

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canRun = _actor.Has(ConsolePermission.RunRecoveryWizard);
        _canDownloadKey = _actor.Has(ConsolePermission.RevealSecret);
    }

    protected override async Task OnParametersSetAsync()
    {
        _selectedKey = null;
        await ReloadAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        // Steps may run on another console instance: their events reach this page through the notifier too.
        _watch = new RunWatch(Notifier, p => p.RunId == RunId, InvokeAsync, async () =>
        {
            await ReloadAsync();
            StateHasChanged();
        }, everyEvent: true);
    }

    private async Task ReloadAsync()
    {
        var previousCurrent = _view?.Current?.Key;
        _view = await RecoveryService.GetAsync(RunId, CancellationToken.None);
        _notFound = _view is null;
        if (_view is null)
        {
            return;
        }

        // Follow the run: when the open step moves on, show the new one unless the person picked another.
        if (_selectedKey == previousCurrent)
        {
            _selectedKey = null;
        }

        if (_view.Current?.Inputs.Any(i => i.Kind == InputKind.Backup) == true && _candidates.Count == 0)
        {
            _candidates = await RecoveryService.GetBackupCandidatesAsync(RunId, CancellationToken.None);
        }
    }

    private Task SelectAsync(string key)
    {
        _selectedKey = key;
        return Task.CompletedTask;
    }

    private async Task ActAsync(Func<Task> action)
    {
        _error = null;
        try
        {
            await action();
        }
        catch (Exception e) when (e is RecoveryRefusedException or RecoveryInputException or PermissionDeniedException)
        {
            _error = e.Message;
        }

        await ReloadAsync();
    }

    private Task AdvanceAsync(IReadOnlyDictionary<string, string?> inputs) => ActAsync(async () =>
    {
        var key = SelectedKey!;
        var result = await RecoveryService.AdvanceAsync(_actor, RunId, key, inputs, CancellationToken.None);
        if (result.Status == RecoveryStepStatus.Passed)
        {
            Snackbar.Add("Check passed.", Severity.Success);
        }
    });

    private Task MarkDoneAsync() => ActAsync(() => RecoveryService.MarkDoneAsync(_actor, RunId, SelectedKey!, CancellationToken.None));

    private Task<string> RevealUrlAsync() => RecoveryService.RevealNewDatabaseUrlAsync(_actor, RunId, CancellationToken.None);

    private async Task AbandonAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Abandon this run?",
            "The run stops here and stays in the history without an RTO. Nothing already restored is removed (a drill's scratch database is dropped).",
            yesText: "Abandon", cancelText: "Keep going");
        if (confirmed == true)
        {
            await ActAsync(() => RecoveryService.AbandonAsync(_actor, RunId, null, CancellationToken.None));
        }
    }

    private Task PrepareKeyDownloadAsync() => ActAsync(async () =>
    {
        var revealed = await SigningKeys.RevealAsync(_actor, _view!.Run.TargetId, null, CancellationToken.None);
        _keyDataUrl = "data:application/x-pem-file;base64," + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(revealed.PrivateKeyPem));
    });

    // The key leaves the page as soon as it was downloaded once.
    private void ForgetKey() => _ = Task.Delay(500).ContinueWith(_ => InvokeAsync(() =>
    {
        _keyDataUrl = null;
        StateHasChanged();
    }), TaskScheduler.Default);

    public ValueTask DisposeAsync()
    {
        _watch?.Dispose();
        return ValueTask.CompletedTask;
    }
}
