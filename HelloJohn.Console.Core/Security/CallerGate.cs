using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Security;

/// <summary>The check every guarded Core operation makes at the moment it runs. A page keeps the principal its circuit
/// started with for hours, so the caller's roles are never taken from it: the account is read again from the console
/// database (it exists, is not disabled or locked out, still has the same security stamp) and its current roles decide.
/// A refusal is audited as denied and nothing runs.</summary>
public sealed class CallerGate(IDbContextFactory<ConsoleDbContext> dbFactory, IAuditLog audit, TimeProvider time)
{
    /// <summary>Returns <paramref name="actor"/> with the account's current roles when it may do
    /// <paramref name="permission"/> now; otherwise records a denied <paramref name="action"/> on
    /// <paramref name="target"/> and throws <see cref="PermissionDeniedException"/>.</summary>
    public async Task<Actor> DemandAsync(Actor actor, ConsolePermission permission, string action, string? target, CancellationToken ct)
    {
        var check = await CheckAsync(actor, permission, ct);
        if (check.Refusal is { } refusal)
        {
            // Recorded whatever happens to the caller's token: a refusal is part of the trail.
            await audit.RecordAsync(actor, action, target, AuditOutcome.Denied, check.DeniedDetail, CancellationToken.None);
            throw refusal;
        }

        return check.Current!;
    }

    /// <summary>The same decision without recording it, for callers that audit the refusal under a name they must
    /// look up first (never tell a refused caller more than the refusal).</summary>
    public async Task<CallerCheck> CheckAsync(Actor actor, ConsolePermission permission, CancellationToken ct)
    {
        if (actor.IsConsoleItself)
        {
            return actor.Has(permission)
                ? CallerCheck.Allowed(actor)
                : CallerCheck.Refused("the console's own job lacks it", new PermissionDeniedException(actor, permission));
        }

        if (actor.UserId is null)
        {
            return CallerCheck.Refused("not signed in",
                new PermissionDeniedException(permission, $"Sign in first: {ConsolePermissions.Describe(permission)} needs a signed-in {ConsolePermissions.RolesWith(permission)}. Nothing was done."));
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var account = await db.Users.AsNoTracking().Where(u => u.Id == actor.UserId)
            .Select(u => new { u.IsDisabled, u.LockoutEnabled, u.LockoutEnd, u.SecurityStamp })
            .FirstOrDefaultAsync(ct);
        if (account is null)
        {
            return CallerCheck.Refused("the account no longer exists",
                new PermissionDeniedException(permission, $"The account {actor.Name} no longer exists, so this page no longer acts for anyone. Nothing was done. Sign in with another account."));
        }

        if (account.IsDisabled)
        {
            return CallerCheck.Refused("the account is disabled",
                new PermissionDeniedException(permission, $"The account {actor.Name} was disabled by an administrator, so it may no longer act. Nothing was done. Ask an administrator to enable it, then sign in again."));
        }

        if (account.LockoutEnabled && account.LockoutEnd is { } until && until > time.GetUtcNow())
        {
            return CallerCheck.Refused($"the account is locked out until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC",
                new PermissionDeniedException(permission, $"The account {actor.Name} is locked after repeated failed sign-ins until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC. Nothing was done. An administrator can unlock it on the Users page."));
        }

        var roles = await db.UserRoles.Where(ur => ur.UserId == actor.UserId)
            .Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!)
            .ToListAsync(ct);
        var current = actor with { Roles = roles.Where(r => ConsoleRoles.All.Contains(r)).Order(StringComparer.Ordinal).ToArray() };
        if (!current.Has(permission))
        {
            var now = current.Roles.Count == 0 ? "no role" : string.Join(", ", current.Roles);
            var was = actor.Roles.Except(current.Roles).Any() ? $" (this page was opened as {string.Join(", ", actor.Roles)})" : "";
            return CallerCheck.Refused($"holds {now}{was}",
                new PermissionDeniedException(permission,
                    $"{actor.Name} may not {ConsolePermissions.Describe(permission)}: that needs the {ConsolePermissions.RolesWith(permission)} role, and the account now has {now}{was}. Nothing was done."
                    + (was.Length > 0 ? " Reload the page to see what your role allows." : "")));
        }

        if (actor.SecurityStamp is { } stamp && !string.Equals(stamp, account.SecurityStamp, StringComparison.Ordinal))
        {
            return CallerCheck.Refused("the sign-in is older than the account's last password, role or status change",
                new PermissionDeniedException(permission, $"The sign-in of {actor.Name} is no longer valid: the account's password, role or status changed after this page was opened. Nothing was done. Sign in again."));
        }

        return CallerCheck.Allowed(current);
    }
}

/// <summary>What <see cref="CallerGate.CheckAsync"/> decided: the caller with current roles, or why not.</summary>
public sealed record CallerCheck(Actor? Current, string? Reason, PermissionDeniedException? Refusal)
{
    /// <summary>What the audit trail says about a refusal: the permission needed and why the caller lacks it.</summary>
    public string? DeniedDetail => Refusal is null ? null : $"needs {Refusal.Permission}: {Reason}";

    public static CallerCheck Allowed(Actor current) => new(current, null, null);

    public static CallerCheck Refused(string reason, PermissionDeniedException refusal) => new(null, reason, refusal);
}
