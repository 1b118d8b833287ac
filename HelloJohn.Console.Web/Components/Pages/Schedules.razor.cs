using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

/// <summary>The recurring jobs of a target with their next runs in the reader's zone and UTC, their editor, and the
/// retention plan as it would run now, with pins and "Apply retention now".</summary>
public partial class Schedules
{
    private const string ZoneModule = "./Components/Pages/Schedules.razor.js";

    private Actor _actor = Actor.System;
    private IReadOnlyList<TargetSummary> _targets = [];
    private Guid _targetId;
    private IReadOnlyList<ScheduleView> _schedules = [];
    private TimeSpan? _lastBackupDuration;
    private RetentionPlan? _plan;
    private RetentionRunResult? _lastRun;
    private TimeZoneInfo? _browserZone;
    private string? _editing;
    private bool _canManageSchedules;
    private bool _canApplyRetention;
    private bool _canPin;
    private bool _busy;
    private string? _scheduleError;
    private string? _retentionError;

    [Inject] private TargetService Targets { get; set; } = default!;
    [Inject] private ScheduleService ScheduleService { get; set; } = default!;
    [Inject] private RetentionService Retention { get; set; } = default!;
    [Inject] private BackupService Backups { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;

    /// <summary>The browser's zone once known; until then (and without a browser) the first schedule's zone.</summary>
    private TimeZoneInfo UserZone => _browserZone ?? CronSchedule.FindZone(_schedules.FirstOrDefault()?.TimeZone) ?? TimeZoneInfo.Utc;

    private string ZoneName => UserZone.Id;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canManageSchedules = _actor.Has(ConsolePermission.ManageSchedules);
        _canApplyRetention = _actor.Has(ConsolePermission.ManageRetention);
        _canPin = _actor.Has(ConsolePermission.PinBackup);
        _targets = await Targets.ListAsync(CancellationToken.None);
        _targetId = (await Targets.GetDefaultAsync(CancellationToken.None))?.Id ?? Guid.Empty;
        await LoadAsync();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        try
        {
            await using var module = await JS.InvokeAsync<IJSObjectReference>("import", ZoneModule);
            _browserZone = CronSchedule.FindZone(await module.InvokeAsync<string?>("timeZone"));
        }
        catch (Exception e) when (e is JSException or JSDisconnectedException or TaskCanceledException)
        {
            // Without the browser's zone the schedule's own zone is shown, which the page names.
            return;
        }

        if (_browserZone is not null)
        {
            StateHasChanged();
        }
    }

    private async Task SelectTargetAsync(Guid targetId)
    {
        _targetId = targetId;
        _editing = null;
        _lastRun = null;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (_targetId == Guid.Empty)
        {
            return;
        }

        _schedules = await ScheduleService.ListAsync(_targetId, CancellationToken.None);
        _lastBackupDuration = await ScheduleService.LastBackupDurationAsync(_targetId, CancellationToken.None);
        await LoadPlanAsync();
    }

    private async Task LoadPlanAsync()
    {
        try
        {
            _plan = await Retention.PreviewAsync(_targetId, CancellationToken.None);
        }
        catch (ArgumentException e)
        {
            // The policy itself is invalid (the message names the setting to fix).
            _retentionError = e.Message;
        }
    }

    private async Task<string?> SaveScheduleAsync(string cron, string timeZone)
    {
        var id = _editing!;
        try
        {
            var saved = await ScheduleService.UpdateAsync(_actor, id, cron, timeZone, CancellationToken.None);
            Snackbar.Add($"{ScheduleText.KindName(saved.Kind)} schedule saved: '{saved.Cron}' ({saved.TimeZone}).{(saved.Warning is null ? "" : " " + saved.Warning)}",
                saved.Warning is null ? Severity.Success : Severity.Warning);
            _editing = null;
            _schedules = await ScheduleService.ListAsync(_targetId, CancellationToken.None);
            // Called back from the editor: the table and the editor's visibility are this page's.
            StateHasChanged();
            return null;
        }
        catch (Exception e) when (e is ScheduleChangeRejectedException or PermissionDeniedException or KeyNotFoundException)
        {
            return e.Message;
        }
    }

    private Task PauseAsync(ScheduleView s) => ChangeScheduleAsync(() => ScheduleService.PauseAsync(_actor, s.Id, CancellationToken.None), $"{ScheduleText.KindName(s.Kind)} schedule paused.");

    private Task ResumeAsync(ScheduleView s) => ChangeScheduleAsync(() => ScheduleService.ResumeAsync(_actor, s.Id, CancellationToken.None), $"{ScheduleText.KindName(s.Kind)} schedule resumed.");

    private Task RunNowAsync(ScheduleView s) => ChangeScheduleAsync(() => ScheduleService.RunNowAsync(_actor, s.Id, CancellationToken.None), $"{ScheduleText.KindName(s.Kind)} started now.");

    private async Task ChangeScheduleAsync<T>(Func<Task<T>> change, string done)
    {
        _busy = true;
        _scheduleError = null;
        try
        {
            await change();
            Snackbar.Add(done, Severity.Success);
            _schedules = await ScheduleService.ListAsync(_targetId, CancellationToken.None);
        }
        catch (Exception e) when (e is PermissionDeniedException or KeyNotFoundException or InvalidOperationException)
        {
            _scheduleError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task ApplyRetentionAsync()
    {
        var expiring = _plan?.Expired.Count() ?? 0;
        var confirmed = await Dialogs.ShowMessageBoxAsync(
            "Apply retention now?",
            expiring == 0
                ? "No backup expires under the plan shown; tier copies are made and copies no tier needs are removed."
                : $"{expiring} backup(s) marked \"expire\" are deleted from every store, and the tier copies shown are made. Deleted backups cannot be restored.",
            yesText: "Apply retention", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        _busy = true;
        _retentionError = null;
        try
        {
            _lastRun = await Retention.ApplyAsync(_targetId, _actor, CancellationToken.None);
            await LoadPlanAsync();
        }
        catch (Exception e) when (e is PermissionDeniedException or KeyNotFoundException)
        {
            _retentionError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task PinAsync(RetentionPinRequest request)
    {
        _busy = true;
        _retentionError = null;
        try
        {
            await Backups.PinAsync(_actor, request.BackupId, request.Pinned, CancellationToken.None);
            Snackbar.Add($"{request.FileName} {(request.Pinned ? "pinned: retention keeps it" : "unpinned")}.", Severity.Success);
            await LoadPlanAsync();
        }
        catch (Exception e) when (e is PermissionDeniedException or KeyNotFoundException or InvalidOperationException)
        {
            _retentionError = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }
}
