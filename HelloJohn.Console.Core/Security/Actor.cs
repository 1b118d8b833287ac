namespace HelloJohn.Console.Core.Security;

/// <summary>Who asks for an action: a signed-in console user, or the scheduler acting on the console's own behalf.
/// The roles are those the caller's sign-in carried; <see cref="CallerGate"/> replaces them with the account's current
/// ones before anything guarded runs.</summary>
public sealed record Actor(string? UserId, string Name, IReadOnlyCollection<string> Roles)
{
    private const string SystemName = "system";

    /// <summary>The console itself (recurring jobs, start-up housekeeping). It holds every permission.</summary>
    public static Actor System { get; } = new(null, SystemName, [ConsoleRoles.Admin]);

    /// <summary>The security stamp the caller's sign-in was issued with (from the cookie's claims), when known. A stamp
    /// that no longer matches the account's means the password, role or account changed since.</summary>
    public string? SecurityStamp { get; init; }

    /// <summary>An actor the console made for itself (the scheduler, a job acting for the system): there is no account
    /// to re-read. People always have a user id: a sign-in without one is treated as anonymous.</summary>
    public bool IsConsoleItself => UserId is null && Name == SystemName;

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

/// <summary>A guarded action was refused; the message says why, that nothing was done, and what to do.</summary>
public sealed class PermissionDeniedException : Exception
{
    public PermissionDeniedException(Actor actor, ConsolePermission permission)
        : this(permission, $"{actor.Name} may not {ConsolePermissions.Describe(permission)}: that needs the {ConsolePermissions.RolesWith(permission)} role. Nothing was done.")
    {
    }

    public PermissionDeniedException(ConsolePermission permission, string message)
        : base(message)
    {
        Permission = permission;
    }

    public ConsolePermission Permission { get; }
}
