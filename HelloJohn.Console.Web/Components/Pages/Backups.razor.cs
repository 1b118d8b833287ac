using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

/// <summary>Backups: sets of each deployment, expandable to their members, with Back up now, cancel, retry of failed
/// members, pin, verify, restore and delete (typed confirmation); and every backup file on its own, with download, pin and delete (typed confirmation).
/// <c>?backup={id}</c> and <c>?set={id}</c> (the links notifications carry) show that one backup or set.</summary>
public partial class Backups
{
    private BackupsGrid? _grid;
    private SetsGrid? _sets;
    private int _tab;
    private bool _canBackUp;
    private bool _canCancel;
    private bool _canPin;
    private bool _canVerify;
    private bool _canRestore;
    private bool _canDownload;
    private bool _canDelete;
    private BackupListItem? _deleting;
    private BackupSetListItem? _deletingSet;
    private bool _requesting;
    private string? _error;
    private Actor _actor = Actor.System;
    private RunWatch? _watch;
    private IReadOnlyList<TargetSummary> _deployments = [];
    private Guid _deploymentId;
    private IReadOnlyDictionary<Guid, SetVerificationItem> _verifications = new Dictionary<Guid, SetVerificationItem>();
    private BackupSetListItem? _restoring;
    private Guid? _backupId;
    private Guid? _setId;
    private string? _linkNote;
    private bool _filterChanged;

    [Inject] private BackupService BackupsService { get; set; } = default!;
    [Inject] private SetService Sets { get; set; } = default!;
    [Inject] private SetVerificationService SetVerifications { get; set; } = default!;
    [Inject] private TargetService Targets { get; set; } = default!;
    [Inject] private RunProgressNotifier Notifier { get; set; } = default!;
    [Inject] private VerificationService Verifications { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>Shows only this backup, under All backup files.</summary>
    [SupplyParameterFromQuery(Name = "backup")]
    public string? Backup { get; set; }

    /// <summary>Shows only this set, under Sets.</summary>
    [SupplyParameterFromQuery(Name = "set")]
    public string? Set { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canBackUp = _actor.Has(ConsolePermission.RunBackup);
        _canCancel = _actor.Has(ConsolePermission.CancelBackup);
        _canPin = _actor.Has(ConsolePermission.PinBackup);
        _canVerify = _actor.Has(ConsolePermission.VerifyBackup);
        _canRestore = _actor.Has(ConsolePermission.RestoreToNewDatabase);
        _canDownload = _actor.Has(ConsolePermission.DownloadBackup);
        _canDelete = _actor.Has(ConsolePermission.DeleteBackup);
        _deployments = [.. (await Targets.ListAsync(CancellationToken.None)).Where(t => t.Source != TargetConnectionSource.Unset)];
        _deploymentId = (await Targets.GetDefaultAsync(CancellationToken.None))?.Id ?? _deployments.FirstOrDefault()?.Id ?? Guid.Empty;
    }

    protected override async Task OnParametersSetAsync()
    {
        var (backupId, setId) = (_backupId, _setId);
        _linkNote = null;
        _backupId = QueryParameter.Id(Backup, "backup", out var backupProblem);
        _setId = QueryParameter.Id(Set, "set", out var setProblem);
        _setId = _backupId is null ? _setId : null;
        _error = backupProblem ?? setProblem;
        if (_backupId is { } id)
        {
            var found = await BackupsService.GetAsync(id, CancellationToken.None);
            _linkNote = found is null ? "The linked backup is no longer in the catalog (retention or a Delete removed it); every backup is shown." : $"Showing one backup: {found.Backup.FileName} of {found.Backup.TargetName}.";
            _backupId = found is null ? null : id;
            _tab = found is null ? _tab : 1;
        }
        else if (_setId is { } set)
        {
            var found = await Sets.GetAsync(set, CancellationToken.None);
            _linkNote = found is null ? "The linked set is no longer in the catalog (retention removed it); every set is shown." : $"Showing one set: {found.Set.Name} of {found.Set.TargetName}.";
            _setId = found is null ? null : set;
            _tab = 0;
        }

        // Opened from another link while the page is open (or Show all): the grids read again once they have the filter.
        _filterChanged = (backupId, setId) != (_backupId, _setId) && (_grid is not null || _sets is not null);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (_filterChanged)
        {
            _filterChanged = false;
            await ReloadGridAsync();
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        _watch = new RunWatch(Notifier, p => p.Kind is RunKind.Backup or RunKind.BackupSet or RunKind.Verification, InvokeAsync, ReloadGridAsync);
    }

    private async Task ReloadGridAsync()
    {
        if (_sets is not null)
        {
            await _sets.ReloadAsync();
        }

        if (_grid is not null)
        {
            await _grid.ReloadAsync();
        }

        StateHasChanged();
    }

    private async Task<BackupSetDetails?> LoadSetAsync(Guid id)
    {
        var details = await Sets.GetAsync(id, CancellationToken.None);
        _verifications = await SetVerifications.LatestForSetsAsync([id, .. _verifications.Keys], CancellationToken.None);
        return details;
    }

    private string VerifyText(BackupSetListItem set) => _verifications.GetValueOrDefault(set.Id) switch
    {
        { Status: BackupSetVerificationStatus.Running } => "Verifying…",
        { Status: BackupSetVerificationStatus.Passed } => "Verified ✓ (again)",
        { Status: BackupSetVerificationStatus.Failed } v => $"Verification failed ({v.Failed}) · verify again",
        _ => "Verify set",
    };

    private Task<BackupDetails?> LoadDetailsAsync(Guid id) => BackupsService.GetAsync(id, CancellationToken.None);

    private async Task BackUpNowAsync()
    {
        _requesting = true;
        _error = null;
        try
        {
            var id = await Sets.RequestAsync(_actor, _deploymentId == Guid.Empty ? null : _deploymentId, BackupTrigger.Manual, CancellationToken.None);
            var queued = await Sets.GetAsync(id, CancellationToken.None);
            Snackbar.Add($"Set {queued?.Set.Name} queued.", Severity.Info);
            _tab = 0;
            await ReloadGridAsync();
        }
        catch (Exception e) when (e is PermissionDeniedException or InvalidOperationException or KeyNotFoundException)
        {
            _error = e.Message;
        }
        finally
        {
            _requesting = false;
        }
    }

    private async Task CancelSetAsync(BackupSetListItem set)
    {
        _error = await RunCancel.CancelAsync(() => Sets.CancelAsync(_actor, set.Id, CancellationToken.None),
            async () => (await Sets.GetAsync(set.Id, CancellationToken.None))?.Set.IsActive == true, Snackbar, set.Name);
        await ReloadGridAsync();
    }

    private Task RetrySetAsync(BackupSetListItem set) => AttemptAsync(async () =>
    {
        await Sets.RetryFailedAsync(_actor, set.Id, CancellationToken.None);
        Snackbar.Add($"{set.Name}: the failed members run again.", Severity.Info);
    });

    private Task PinSetAsync(BackupSetListItem set) => AttemptAsync(async () =>
    {
        await Sets.PinAsync(_actor, set.Id, !set.Pinned, CancellationToken.None);
        Snackbar.Add(set.Pinned ? $"{set.Name} unpinned." : $"{set.Name} pinned: retention keeps it.", Severity.Success);
    });

    private Task VerifySetAsync(BackupSetListItem set) => AttemptAsync(async () =>
    {
        await SetVerifications.RequestAsync(_actor, set.Id, VerificationTrigger.Manual, CancellationToken.None);
        _verifications = await SetVerifications.LatestForSetsAsync([set.Id, .. _verifications.Keys], CancellationToken.None);
        Snackbar.Add($"{set.Name}: every database is being restored into a throw-away database and counted.", Severity.Info);
    });

    private async Task AttemptAsync(Func<Task> action)
    {
        _error = null;
        try
        {
            await action();
        }
        catch (Exception e) when (e is PermissionDeniedException or InvalidOperationException or KeyNotFoundException)
        {
            _error = e.Message;
        }

        await ReloadGridAsync();
    }

    private async Task CancelAsync(BackupListItem item)
    {
        _error = await RunCancel.CancelAsync(() => BackupsService.CancelAsync(_actor, item.Id, CancellationToken.None),
            async () => (await BackupsService.GetAsync(item.Id, CancellationToken.None))?.Backup.IsActive == true, Snackbar, item.FileName);
        await ReloadGridAsync();
    }

    private Task PinBackupAsync(BackupListItem item) => AttemptAsync(async () =>
    {
        await BackupsService.PinAsync(_actor, item.Id, !item.Pinned, CancellationToken.None);
        Snackbar.Add(item.Pinned ? $"{item.FileName} unpinned." : $"{item.FileName} pinned: retention keeps it.", Severity.Success);
    });

    private async Task DeletedAsync(string message)
    {
        (_deleting, _deletingSet) = (null, null);
        Snackbar.Add(message, Severity.Success);
        await ReloadGridAsync();
    }

    private async Task RetryUploadAsync(BackupListItem item)
    {
        try
        {
            var reached = await BackupsService.RetryUploadAsync(_actor, item.Id, CancellationToken.None);
            Snackbar.Add(reached.Count == 0 ? $"{item.FileName}: no store was reached." : $"{item.FileName} copied to {string.Join(", ", reached)}.", reached.Count == 0 ? Severity.Warning : Severity.Success);
        }
        catch (Exception e) when (e is PermissionDeniedException or InvalidOperationException or KeyNotFoundException)
        {
            _error = e.Message;
        }

        await ReloadGridAsync();
    }

    public ValueTask DisposeAsync()
    {
        _watch?.Dispose();
        return ValueTask.CompletedTask;
    }
}
