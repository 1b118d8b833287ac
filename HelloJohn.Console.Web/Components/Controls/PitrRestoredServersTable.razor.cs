using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Controls;

public partial class PitrRestoredServersTable
{
    private RestoredServerView? _removing;
    private string? _error;
    private string? _message;
    private bool _busy;

    /// <summary>Newest first, each with its live state.</summary>
    [Parameter, EditorRequired] public IReadOnlyList<RestoredServerView> Servers { get; set; } = [];

    /// <summary>When the live states were read.</summary>
    [Parameter] public DateTimeOffset? CheckedAt { get; set; }

    /// <summary>Whether the states are being read again.</summary>
    [Parameter] public bool Loading { get; set; }

    /// <summary>Whether the user may stop and start them (those who may restore).</summary>
    [Parameter] public bool CanStopStart { get; set; }

    /// <summary>Whether the user may remove them (Admin).</summary>
    [Parameter] public bool CanRemove { get; set; }

    /// <summary>Stops one; returns what was done, throws with the refusal.</summary>
    [Parameter] public Func<RestoredServerView, Task<string>>? OnStop { get; set; }

    /// <summary>Starts one again; returns what was done, throws with the refusal.</summary>
    [Parameter] public Func<RestoredServerView, Task<string>>? OnStart { get; set; }

    /// <summary>Removes one with what was typed; returns what was done, throws with the refusal.</summary>
    [Parameter] public Func<RestoredServerView, string?, Task<string>>? OnRemove { get; set; }

    /// <summary>Reads the live states again.</summary>
    [Parameter] public EventCallback OnRefresh { get; set; }

    private static string ModeText(PitrRestoreMode mode) => mode == PitrRestoreMode.Verify ? "verification" : "disaster recovery";

    private static string ModeDetail(PitrRestoreMode mode) => mode == PitrRestoreMode.Verify ? "paused at the target, read only" : "promoted: a primary";

    private static string StateText(RestoredServerView s) => s.Live.State switch
    {
        RestoredServerState.Running => s.Live.AcceptsConnections ? "running" : "running, not accepting connections",
        RestoredServerState.Missing => "directory missing",
        _ => s.Live.State.ToString().ToLowerInvariant(),
    };

    private static Color StateColor(RestoredServerView s) => s.Live.State switch
    {
        RestoredServerState.Running => s.Live.AcceptsConnections ? Color.Success : Color.Warning,
        RestoredServerState.Restoring => Color.Info,
        RestoredServerState.Missing => Color.Warning,
        _ => Color.Default,
    };

    private static string Detail(RestoredServerView s) => s.Live.State switch
    {
        RestoredServerState.Removed => $"by {s.RemovedBy} at {s.RemovedAt?.ToLocalTime():yyyy-MM-dd HH:mm}",
        RestoredServerState.Running when s.Live.AcceptsConnections => "accepts connections",
        _ => s.Live.Detail,
    };

    private static string RemoveExplanation(RestoredServerView s) =>
        $"The server on port {s.Port} is stopped if it runs, then {s.DataDirectory} is deleted with everything in it" +
        (s.Live.SizeBytes is { } bytes ? $" ({Readable.Size(bytes)})" : "") +
        ". This cannot be undone: restore again to get another copy. The audit trail records who removed it. Type the directory's name to confirm.";

    private void ShowRemove(RestoredServerView server)
    {
        (_removing, _error, _message) = (server, null, null);
    }

    private async Task<string> RemoveAsync(RestoredServerView server, string? typed) =>
        OnRemove is null ? throw new InvalidOperationException("Removing is not available here. Nothing was removed.") : await OnRemove(server, typed);

    private Task RemovedAsync(string message)
    {
        (_removing, _message) = (null, message);
        return Task.CompletedTask;
    }

    private async Task ActAsync(Func<RestoredServerView, Task<string>>? action, RestoredServerView server)
    {
        if (action is null)
        {
            return;
        }

        (_busy, _error, _message, _removing) = (true, null, null, null);
        try
        {
            _message = await action(server);
        }
        catch (Exception e) when (e is PermissionDeniedException or InvalidOperationException or KeyNotFoundException)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }
}
