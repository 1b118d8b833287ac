using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class PointInTime : IDisposable
{
    private IReadOnlyList<TargetSummary>? _servers;
    private PitrOverview? _overview;
    private PitrReadinessReport? _readiness;
    private Guid _serverId;
    private string? _error;
    private bool _checking;
    private bool _taking;
    private bool _canBackUp;
    private bool _canRestore;
    private bool _canPause;
    private bool _canCancelBackup;
    private bool _canRemoveRestored;
    private IReadOnlyList<RestoredServerView> _restored = [];
    private DateTimeOffset? _restoredAt;
    private bool _restoredLoading;
    private string? _restoresSeen;
    private Timer? _restoredClock;
    private Actor _actor = Actor.System;
    private int _reloadQueued;
    private Timer? _clock;

    [Parameter] public Guid? ServerId { get; set; }

    [Inject] private PitrService Pitr { get; set; } = default!;
    [Inject] private PitrNotifier Notifier { get; set; } = default!;
    [Inject] private RestoredServers Restored { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canBackUp = _actor.Has(ConsolePermission.RunBackup);
        _canRestore = _actor.Has(ConsolePermission.RestoreToNewDatabase);
        _canPause = _actor.Has(ConsolePermission.ManageSettings);
        _canCancelBackup = _actor.Has(ConsolePermission.CancelBackup);
        _canRemoveRestored = _actor.Has(ConsolePermission.RemoveRestoredServer);
        _servers = await Pitr.ServersAsync(CancellationToken.None);
        if (_servers.Count > 0)
        {
            _serverId = ServerId is { } id && _servers.Any(s => s.Id == id) ? id : _servers[0].Id;
            await LoadAsync();
            await CheckReadinessAsync();
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        Notifier.Changed += OnChanged;
        // The RPO grows by itself between commits: re-render the clock each second (the data itself comes pushed).
        _clock = new Timer(_ => InvokeAsync(StateHasChanged), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        // Restored servers run outside the console (anyone may stop one with pg_ctl): their state is read again now and then.
        _restoredClock = new Timer(_ => InvokeAsync(async () =>
        {
            await LoadRestoredAsync();
            StateHasChanged();
        }), null, RestoredRecheck, RestoredRecheck);
    }

    private TimeSpan? Rpo(PitrOverview o) => o.State?.NewestCommitAt is { } at ? Time.GetUtcNow() - at : null;

    private static string ReceiverText(PitrOverview o) => o.State is null ? "not started" : o.State.Paused ? "stopped by an administrator" : o.State.State.ToString().ToLowerInvariant();

    private static Color ReceiverColor(PitrOverview o) => o.State?.State switch
    {
        ReceiverState.Streaming => Color.Success,
        ReceiverState.Restarting => Color.Warning,
        _ => Color.Error,
    };

    private void OnChanged(Guid server)
    {
        if (server != _serverId || Interlocked.Exchange(ref _reloadQueued, 1) == 1)
        {
            return;
        }

        _ = InvokeAsync(async () =>
        {
            Interlocked.Exchange(ref _reloadQueued, 0);
            await LoadAsync();
            StateHasChanged();
        });
    }

    private async Task LoadAsync()
    {
        PitrOverview overview;
        try
        {
            _overview = overview = await Pitr.GetOverviewAsync(_serverId, CancellationToken.None);
            _error = null;
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or IOException)
        {
            _error = e.Message;
            return;
        }

        // The restored servers are read with processes (pg_ctl status): only when a restore came, went or finished.
        var seen = string.Join(',', overview.Restores.Select(r => $"{r.Id}:{PitrRestoreLifecycle.Of(r).InProgress}:{r.RemovedAt}"));
        if (seen != _restoresSeen)
        {
            _restoresSeen = seen;
            await LoadRestoredAsync();
        }
    }

    private static readonly TimeSpan RestoredRecheck = TimeSpan.FromSeconds(15);

    private async Task LoadRestoredAsync()
    {
        if (_restoredLoading || _overview is null)
        {
            return;
        }

        _restoredLoading = true;
        try
        {
            _restored = await Restored.ListAsync(_serverId, CancellationToken.None);
            _restoredAt = Time.GetUtcNow();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or Npgsql.NpgsqlException)
        {
            _error = $"The restored servers could not be read: {e.Message}";
        }
        finally
        {
            _restoredLoading = false;
        }
    }

    private async Task RefreshRestoredAsync()
    {
        await LoadRestoredAsync();
        StateHasChanged();
    }

    private Task<string> StopRestoredAsync(RestoredServerView server) => ActOnRestoredAsync(() => Restored.StopAsync(_actor, server.Id, CancellationToken.None));

    private Task<string> StartRestoredAsync(RestoredServerView server) => ActOnRestoredAsync(() => Restored.StartAsync(_actor, server.Id, CancellationToken.None));

    private Task<string> RemoveRestoredAsync(RestoredServerView server, string? typed) => ActOnRestoredAsync(() => Restored.RemoveAsync(_actor, server.Id, typed, CancellationToken.None));

    /// <summary>Runs the action, then shows every server's state as it is now, whatever the outcome.</summary>
    private async Task<string> ActOnRestoredAsync(Func<Task<string>> action)
    {
        try
        {
            return await action();
        }
        finally
        {
            await LoadRestoredAsync();
            StateHasChanged();
        }
    }

    private async Task SelectServerAsync(Guid id)
    {
        _serverId = id;
        _readiness = null;
        _restoresSeen = null;
        _restored = [];
        await LoadAsync();
        await CheckReadinessAsync();
    }

    private async Task CheckReadinessAsync()
    {
        _checking = true;
        try
        {
            _readiness = await Pitr.CheckReadinessAsync(_serverId, CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            _error = $"Readiness could not be read from the server: {e.Message}";
        }
        finally
        {
            _checking = false;
        }
    }

    private async Task TakeBaseBackupAsync()
    {
        _taking = true;
        try
        {
            await Pitr.TakeBaseBackupAsync(_actor, _serverId, CancellationToken.None);
            Snackbar.Add("Base backup queued", Severity.Info);
            await LoadAsync();
        }
        catch (PermissionDeniedException e)
        {
            _error = e.Message;
        }
        finally
        {
            _taking = false;
        }
    }

    private async Task TogglePauseAsync()
    {
        try
        {
            await Pitr.SetPausedAsync(_actor, _serverId, !(_overview?.State?.Paused ?? false), CancellationToken.None);
            await LoadAsync();
        }
        catch (PermissionDeniedException e)
        {
            _error = e.Message;
        }
    }

    /// <summary>Returns the refusal to show beside the form, or null when the restore was queued.</summary>
    private async Task<string?> RequestRestoreAsync(PitrRestoreRequest request)
    {
        try
        {
            await Pitr.RequestRestoreAsync(_actor, request, CancellationToken.None);
            Snackbar.Add("Restore queued", Severity.Info);
            await LoadAsync();
            return null;
        }
        catch (Exception e) when (e is PitrInputException or PermissionDeniedException)
        {
            return e.Message;
        }
    }

    private async Task CancelBaseBackupAsync(BaseBackupRecord backup)
    {
        _error = await RunCancel.CancelAsync(() => Pitr.CancelBaseBackupAsync(_actor, backup.Id, CancellationToken.None),
            async () => (await Pitr.GetOverviewAsync(_serverId, CancellationToken.None)).BaseBackups.Any(b => b.Id == backup.Id && b.Status is BaseBackupStatus.Queued or BaseBackupStatus.Running),
            Snackbar, "The base backup");
        await LoadAsync();
    }

    private async Task CancelRestoreAsync(PitrRestoreRecord restore)
    {
        _error = await RunCancel.CancelAsync(() => Pitr.CancelRestoreAsync(_actor, restore.Id, CancellationToken.None),
            async () => (await Pitr.GetRestoreAsync(restore.Id, CancellationToken.None))?.Run?.IsActive == true, Snackbar, $"The restore into {restore.DataDirectory}");
        await LoadAsync();
    }

    public void Dispose()
    {
        Notifier.Changed -= OnChanged;
        _clock?.Dispose();
        _restoredClock?.Dispose();
        GC.SuppressFinalize(this);
    }
}
