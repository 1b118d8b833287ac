using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Components.Dialogs;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class Restores
{
    private MudDataGrid<RestoreRunItem>? _grid;
    private RunWatch? _watch;
    private bool _canRestore;
    private bool _canRestoreInPlace;
    private bool _requesting;
    private string? _error;
    private Actor _actor = Actor.System;

    [Inject] private RestoreService RestoreService { get; set; } = default!;
    [Inject] private RunProgressNotifier Notifier { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>Opens the restore dialog with this backup selected (from the Backups page).</summary>
    [SupplyParameterFromQuery(Name = "backup")]
    public Guid? BackupId { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canRestore = _actor.Has(ConsolePermission.RestoreToNewDatabase);
        _canRestoreInPlace = _actor.Has(ConsolePermission.RestoreInPlace);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        _watch = new RunWatch(Notifier, p => p.Kind == RunKind.Restore, InvokeAsync, ReloadGridAsync);
        if (BackupId is not null && _canRestore)
        {
            await OpenRestoreDialogAsync();
        }
    }

    private async Task<GridData<RestoreRunItem>> LoadAsync(GridState<RestoreRunItem> state, CancellationToken ct)
    {
        var page = await RestoreService.QueryAsync(state.Page, state.PageSize, ct);
        return new GridData<RestoreRunItem> { Items = page.Items, TotalItems = page.TotalCount };
    }

    private Task<RestoreRunDetails?> LoadDetailsAsync(Guid id) => RestoreService.GetAsync(id, CancellationToken.None);

    private async Task OpenRestoreDialogAsync()
    {
        _error = null;
        var backups = await RestoreService.ListRestorableAsync(100, CancellationToken.None);
        if (backups.Count == 0)
        {
            _error = "There is no finished backup to restore yet. Take one on the Backups page first.";
            StateHasChanged();
            return;
        }

        var parameters = new DialogParameters<RestoreDialog>
        {
            { d => d.Backups, backups },
            { d => d.InitialBackupId, BackupId is { } id && backups.Any(b => b.Id == id) ? id : null },
            { d => d.CanRestoreInPlace, _canRestoreInPlace },
            { d => d.CheckName, RestoreService.CheckDatabaseNameAsync },
        };
        var dialog = await Dialogs.ShowAsync<RestoreDialog>("Restore a backup", parameters, new DialogOptions { MaxWidth = MaxWidth.Medium, CloseOnEscapeKey = true });
        var result = await dialog.Result;
        if (result is not { Canceled: false, Data: RestoreRequest request })
        {
            return;
        }

        _requesting = true;
        try
        {
            await RestoreService.RequestAsync(_actor, request, CancellationToken.None);
            Snackbar.Add($"Restore into {request.DatabaseName} queued.", Severity.Info);
        }
        catch (Exception e) when (e is RestoreRefusedException or PermissionDeniedException or Npgsql.NpgsqlException)
        {
            _error = e.Message;
        }
        finally
        {
            _requesting = false;
        }

        await ReloadGridAsync();
    }

    private async Task CancelAsync(RestoreRunItem item)
    {
        _error = await RunCancel.CancelAsync(() => RestoreService.CancelAsync(_actor, item.Id, CancellationToken.None),
            async () => (await RestoreService.GetAsync(item.Id, CancellationToken.None))?.Run.IsActive == true, Snackbar, $"The restore into {item.DatabaseName}");
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

    private static Color StatusColor(RestoreStatus status) => status switch
    {
        RestoreStatus.Succeeded => Color.Success,
        RestoreStatus.Failed => Color.Error,
        RestoreStatus.Cancelled => Color.Default,
        _ => Color.Info,
    };

    private static string StatusText(RestoreRunItem run) => run.IsActive ? RunTexts.RestorePhaseText(run.Phase) : run.Status.ToString().ToLowerInvariant();

    private static string PhaseText(string? phase) => RunTexts.RestorePhaseText(phase);

    private static string? TablesText(long done, long? total) => RunTexts.TablesLoaded(done, total);

    public ValueTask DisposeAsync()
    {
        _watch?.Dispose();
        return ValueTask.CompletedTask;
    }
}
