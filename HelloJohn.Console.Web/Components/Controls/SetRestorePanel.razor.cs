using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Sets;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Restores a whole set into new databases (names checked first), and shows what its roles would change before
/// an administrator applies any.</summary>
public partial class SetRestorePanel
{
    private string? _prefix = "restored_";
    private string? _suffix;
    private IReadOnlyList<SetRestorePlanItem>? _plan;
    private IReadOnlyList<RoleChange>? _roles;
    private readonly HashSet<string> _chosen = new(StringComparer.Ordinal);
    private string? _confirmation;
    private string? _message;
    private bool _failed;
    private bool _busy;

    /// <summary>The set to restore.</summary>
    [Parameter, EditorRequired] public BackupSetListItem Set { get; set; } = default!;

    /// <summary>Who restores.</summary>
    [Parameter, EditorRequired] public Actor Actor { get; set; } = Actor.System;

    [Parameter] public EventCallback OnClose { get; set; }

    [Inject] private SetRestoreService Restores { get; set; } = default!;
    [Inject] private SetRolesService Roles { get; set; } = default!;

    private bool _canApplyRoles => Actor.Has(ConsolePermission.RestoreInPlace);

    private Task PlanAsync() => AttemptAsync(async () => _plan = await Restores.PlanAsync(Set.Id, _prefix?.Trim(), _suffix?.Trim(), CancellationToken.None));

    private Task RestoreAsync() => AttemptAsync(async () =>
    {
        var runs = await Restores.RestoreAsync(Actor, Set.Id, _prefix?.Trim(), _suffix?.Trim(), CancellationToken.None);
        _message = $"{runs.Count} restore(s) queued; follow them on Restores.";
        _plan = null;
    });

    private Task RolesPlanAsync() => AttemptAsync(async () => _roles = await Roles.PlanAsync(Actor, Set.Id, CancellationToken.None));

    private Task ApplyRolesAsync() => AttemptAsync(async () =>
    {
        await Roles.ApplyAsync(Actor, Set.Id, [.. _chosen], _confirmation, CancellationToken.None);
        _message = $"Restored the role(s) {string.Join(", ", _chosen)} on the server.";
        _chosen.Clear();
        _roles = await Roles.PlanAsync(Actor, Set.Id, CancellationToken.None);
    });

    private void Choose(string role, bool chosen)
    {
        if (chosen)
        {
            _chosen.Add(role);
        }
        else
        {
            _chosen.Remove(role);
        }
    }

    private async Task AttemptAsync(Func<Task> action)
    {
        _busy = true;
        _message = null;
        _failed = false;
        try
        {
            await action();
        }
        catch (Exception e) when (e is RestoreRefusedException or InvalidOperationException or PermissionDeniedException or KeyNotFoundException)
        {
            _message = e.Message;
            _failed = true;
        }
        finally
        {
            _busy = false;
        }
    }
}
