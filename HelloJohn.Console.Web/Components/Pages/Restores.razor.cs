using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<Guid, RunProgress> _progress = new();
    private bool _canRestore;
    private bool _canRestoreInPlace;
    private bool _requesting;
    private bool _hasActive;
    private string? _error;
    private Actor _actor = Actor.System;
    private PeriodicTimer? _poll;
    private CancellationTokenSource? _pollCts;
    private int _reloadQueued;

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

        Notifier.Changed += OnRestoreChanged;
        // Restores may run on another console instance: while any is active, re-read the runs every two seconds.
        _pollCts = new CancellationTokenSource();
        _poll = new PeriodicTimer(TimeSpan.FromSeconds(2));
        _ = PollAsync(_pollCts.Token);
        if (BackupId is not null && _canRestore)
        {
            await OpenRestoreDialogAsync();
        }
    }

    private async Task<GridData<RestoreRunItem>> LoadAsync(GridState<RestoreRunItem> state, CancellationToken ct)
    {
        var page = await RestoreService.QueryAsync(state.Page, state.PageSize, ct);
        _hasActive = page.Items.Any(i => i.IsActive);
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
        _error = null;
        try
        {
            await RestoreService.CancelAsync(_actor, item.Id, CancellationToken.None);
            Snackbar.Add($"Cancelling the restore into {item.DatabaseName}…", Severity.Warning);
        }
        catch (Exception e) when (e is PermissionDeniedException or InvalidOperationException or KeyNotFoundException)
        {
            _error = e.Message;
        }

        await ReloadGridAsync();
    }

    private async Task PollAsync(CancellationToken ct)
    {
        try
        {
            while (await _poll!.WaitForNextTickAsync(ct))
            {
                if (_hasActive)
                {
                    await InvokeAsync(ReloadGridAsync);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The page was closed.
        }
    }

    private void OnRestoreChanged(RunProgress progress)
    {
        if (progress.Kind != RunKind.Restore)
        {
            return;
        }

        _progress[progress.RunId] = progress;
        // Progress comes once per table; coalesce into one reload at a time.
        if (Interlocked.Exchange(ref _reloadQueued, 1) == 0)
        {
            _ = InvokeAsync(async () =>
            {
                Interlocked.Exchange(ref _reloadQueued, 0);
                await ReloadGridAsync();
            });
        }
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

    private static string StatusText(RestoreRunItem run) => run.IsActive
        ? run.Phase switch
        {
            RestorePhase.Queued => "queued",
            RestorePhase.Checking => "checking the file",
            RestorePhase.SafetyBackup => "safety backup",
            RestorePhase.Creating => "creating the database",
            RestorePhase.Restoring => "restoring",
            RestorePhase.Counting => "counting rows",
            _ => "running",
        }
        : run.Status.ToString().ToLowerInvariant();

    public async ValueTask DisposeAsync()
    {
        Notifier.Changed -= OnRestoreChanged;
        if (_pollCts is not null)
        {
            await _pollCts.CancelAsync();
            _pollCts.Dispose();
        }

        _poll?.Dispose();
    }
}
