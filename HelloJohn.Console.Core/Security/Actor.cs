namespace HelloJohn.Console.Core.Security;

/// <summary>Who asks for an action: a signed-in console user, or the scheduler acting on the console's own behalf.</summary>
public sealed record Actor(string? UserId, string Name, IReadOnlyCollection<string> Roles)
{
    /// <summary>The console itself (recurring jobs, start-up housekeeping). It holds every permission.</summary>
    public static Actor System { get; } = new(null, "system", [ConsoleRoles.Admin]);

    public bool Has(ConsolePermission permission) => Roles.Any(role => ConsolePermissions.RoleHas(role, permission));

    /// <summary>Throws <see cref="PermissionDeniedException"/> unless the actor holds <paramref name="permission"/>.</summary>
    public void Demand(ConsolePermission permission)
    {
        if (!Has(permission))
        {
            throw new PermissionDeniedException(this, permission);
        }
    }
}

public sealed class PermissionDeniedException(Actor actor, ConsolePermission permission)
    : Exception($"{actor.Name} may not {permission.ToString().ToLowerInvariant()}: that needs a role with this permission ({string.Join(", ", ConsoleRoles.All.Where(r => ConsolePermissions.RoleHas(r, permission)))}).")
{
    public ConsolePermission Permission { get; } = permission;
}
