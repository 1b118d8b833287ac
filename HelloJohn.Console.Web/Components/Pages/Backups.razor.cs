using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class Backups
{
    private BackupsGrid? _grid;
    private bool _canBackUp;
    private bool _canCancel;
    private bool _requesting;
    private string? _error;
    private Actor _actor = Actor.System;
    private RunWatch? _watch;

    [Inject] private BackupService BackupsService { get; set; } = default!;
    [Inject] private RunProgressNotifier Notifier { get; set; } = default!;
    [Inject] private VerificationService Verifications { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;


    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canBackUp = _actor.Has(ConsolePermission.RunBackup);
        _canCancel = _actor.Has(ConsolePermission.CancelBackup);
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        _watch = new RunWatch(Notifier, p => p.Kind == RunKind.Backup, InvokeAsync, ReloadGridAsync);
    }

    private async Task ReloadGridAsync()
    {
        if (_grid is not null)
        {
            await _grid.ReloadAsync();
            StateHasChanged();
        }
    }

    private Task<BackupDetails?> LoadDetailsAsync(Guid id) => BackupsService.GetAsync(id, CancellationToken.None);

    private async Task BackUpNowAsync()
    {
        _requesting = true;
        _error = null;
        try
        {
            var id = await BackupsService.RequestAsync(_actor, null, BackupTrigger.Manual, CancellationToken.None);
            var queued = await BackupsService.GetAsync(id, CancellationToken.None);
            Snackbar.Add($"Backup {queued?.Backup.FileName} queued.", Severity.Info);
            await ReloadGridAsync();
        }
        catch (Exception e) when (e is PermissionDeniedException or InvalidOperationException)
        {
            _error = e.Message;
        }
        finally
        {
            _requesting = false;
        }
    }

    private async Task CancelAsync(BackupListItem item)
    {
        _error = await RunCancel.CancelAsync(() => BackupsService.CancelAsync(_actor, item.Id, CancellationToken.None),
            async () => (await BackupsService.GetAsync(item.Id, CancellationToken.None))?.Backup.IsActive == true, Snackbar, item.FileName);
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
