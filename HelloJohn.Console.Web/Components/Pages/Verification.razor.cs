using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class Verification
{
    private MudDataGrid<VerificationRunItem>? _grid;
    private IReadOnlyList<RestorableBackup> _backups = [];
    private Guid? _selectedBackup;
    private bool _canVerify;
    private bool _requesting;
    private string? _error;
    private Actor _actor = Actor.System;
    private RunWatch? _watch;

    [Inject] private VerificationService Verifications { get; set; } = default!;
    [Inject] private RestoreService Restores { get; set; } = default!;
    [Inject] private RunProgressNotifier Notifier { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>Shows only this backup's runs, and selects it for Verify now (the badge in the Backups grid links here).</summary>
    [SupplyParameterFromQuery(Name = "backup")]
    public Guid? BackupId { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canVerify = _actor.Has(ConsolePermission.VerifyBackup);
        if (_canVerify)
        {
            await LoadBackupsAsync();
        }
    }

    private async Task LoadBackupsAsync()
    {
        _backups = await Restores.ListRestorableAsync(100, CancellationToken.None);
        _selectedBackup = _selectedBackup is { } chosen && _backups.Any(b => b.Id == chosen) ? chosen
            : BackupId is { } id && _backups.Any(b => b.Id == id) ? id
            : _backups.FirstOrDefault()?.Id;
    }

    /// <summary>Backups come and go while the page is open (new ones finish, retention expires old ones): the list is
    /// read again each time it is opened, so it never offers a backup that is gone.</summary>
    private async Task OnPickerOpenChangedAsync(bool open)
    {
        if (open)
        {
            await LoadBackupsAsync();
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        _watch = new RunWatch(Notifier, p => p.Kind == RunKind.Verification, InvokeAsync, ReloadGridAsync);
    }

    private async Task<GridData<VerificationRunItem>> LoadAsync(GridState<VerificationRunItem> state, CancellationToken ct)
    {
        var page = await Verifications.QueryAsync(state.Page, state.PageSize, BackupId, ct);
        return new GridData<VerificationRunItem> { Items = page.Items, TotalItems = page.TotalCount };
    }

    private Task<VerificationRunDetails?> LoadDetailsAsync(Guid id) => Verifications.GetAsync(id, CancellationToken.None);

    private async Task VerifyNowAsync()
    {
        if (_selectedBackup is not { } backupId)
        {
            return;
        }

        _requesting = true;
        _error = null;
        try
        {
            await Verifications.RequestAsync(_actor, backupId, VerificationTrigger.Manual, CancellationToken.None);
            Snackbar.Add("Verification queued.", Severity.Info);
        }
        catch (Exception e) when (e is PermissionDeniedException or InvalidOperationException)
        {
            _error = e.Message;
            // The choice may have expired since the list was read: offer what is there now.
            await LoadBackupsAsync();
        }
        finally
        {
            _requesting = false;
        }

        await ReloadGridAsync();
    }

    private async Task CancelAsync(VerificationRunItem item)
    {
        _error = await RunCancel.CancelAsync(() => Verifications.CancelAsync(_actor, item.Id, CancellationToken.None),
            async () => (await Verifications.GetAsync(item.Id, CancellationToken.None))?.Run.IsActive == true, Snackbar, $"The verification of {item.BackupFileName}");
        await ReloadGridAsync();
    }

    private async Task ReloadGridAsync()
    {
        if (_grid is not null)
        {
            await _grid.ReloadServerData();
            StateHasChanged();
        }
    }

    private static string Format(TimeSpan? d) => d is { } v ? BackupsGrid.FormatDuration(v) : "";

    private static Color StatusColor(VerificationStatus status) => status switch
    {
        VerificationStatus.Passed => Color.Success,
        VerificationStatus.Failed => Color.Error,
        VerificationStatus.Cancelled => Color.Default,
        _ => Color.Info,
    };

    private static string StatusText(VerificationRunItem run) => run.IsActive ? RunTexts.RestorePhaseText(run.Phase) : run.Status.ToString().ToLowerInvariant();

    private static string PhaseText(string? phase) => RunTexts.RestorePhaseText(phase);

    private static string? TablesText(long done, long? total) => RunTexts.TablesLoaded(done, total);

    private static string TriggerText(VerificationRunItem run) => run.Trigger switch
    {
        VerificationTrigger.Manual => $"manual ({run.RequestedBy})",
        VerificationTrigger.AfterBackup => "after backup",
        VerificationTrigger.Scheduled => "weekly",
        _ => run.Trigger.ToString(),
    };

    public ValueTask DisposeAsync()
    {
        _watch?.Dispose();
        return ValueTask.CompletedTask;
    }
}
