using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Security;

/// <summary>Administers console accounts: create, change role, disable and enable, reset a password, unlock. Every call
/// needs <see cref="ConsolePermission.ManageUsers"/>, writes exactly one audit event (never a password), and refuses a
/// change that would leave the console without an active administrator.</summary>
public sealed class UserAdministrationService(
    IServiceScopeFactory scopes,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IAuditLog audit,
    CallerGate gate,
    SessionRevocations revocations,
    TimeProvider time)
{
    /// <summary>Every account with its role, newest first.</summary>
    public async Task<IReadOnlyList<ConsoleUserSummary>> ListAsync(Actor actor, CancellationToken ct)
    {
        await gate.DemandAsync(actor, ConsolePermission.ManageUsers, AuditActions.UsersRead, "users", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Users.AsNoTracking()
            .OrderByDescending(u => u.CreatedAt).ThenBy(u => u.Email)
            .Select(u => new
            {
                u.Id,
                u.Email,
                u.UserName,
                u.DisplayName,
                Role = db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name).OrderBy(n => n).FirstOrDefault(),
                u.IsDisabled,
                u.LockoutEnd,
                u.AccessFailedCount,
                u.CreatedAt,
                u.LastSignInAt,
                NoPasswordYet = u.PasswordHash == null,
                u.MustChangePassword,
                u.TwoFactorEnabled,
                Invite = db.Set<AccountInvite>().Where(i => i.UserId == u.Id && i.UsedAt == null && i.RevokedAt == null).Max(i => (DateTimeOffset?)i.ExpiresAt),
            })
            .ToListAsync(ct);
        var now = time.GetUtcNow();
        return [.. rows.Select(r => new ConsoleUserSummary(
            r.Id, r.Email ?? r.UserName ?? r.Id, r.DisplayName, r.Role, r.IsDisabled,
            r.LockoutEnd is { } end && end > now ? end : null, r.AccessFailedCount, r.CreatedAt, r.LastSignInAt,
            new AccountSecurityState(r.NoPasswordYet, r.MustChangePassword, r.TwoFactorEnabled, r.Invite)))];
    }

    /// <summary>Creates an account with a role and an initial password (checked against the password policy), which
    /// the person must replace at their first sign-in; without one (null) for an invite link. Returns the new user's id.</summary>
    public async Task<string> CreateAsync(Actor actor, NewConsoleUser request, CancellationToken ct)
    {
        var email = request.Email?.Trim() ?? "";
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageUsers, AuditActions.UserCreated, email, ct);
        string? id = null;
        await ChangeAsync(actor, AuditActions.UserCreated, email, ct, async (users, _) =>
        {
            var role = RequireRole(request.Role);
            if (string.IsNullOrWhiteSpace(email))
            {
                throw new UserAdministrationException("The user was not created: an email address is needed. Nothing was changed.");
            }

            if (request.InitialPassword is "")
            {
                throw new UserAdministrationException("The user was not created: an initial password is needed. Nothing was changed.");
            }

            var user = new ConsoleUser
            {
                UserName = email,
                Email = email,
                EmailConfirmed = true,
                DisplayName = string.IsNullOrWhiteSpace(request.DisplayName) ? null : request.DisplayName.Trim(),
                CreatedAt = time.GetUtcNow(),
                MustChangePassword = request.InitialPassword is not null,
            };
            ThrowIfFailed(request.InitialPassword is null ? await users.CreateAsync(user) : await users.CreateAsync(user, request.InitialPassword), "The user was not created");
            ThrowIfFailed(await users.AddToRoleAsync(user, role), "The user was not created");
            id = user.Id;
            return request.InitialPassword is null ? $"role {role}; signs in first through an invite link" : $"role {role}; must replace the initial password at first sign-in";
        });
        return id!;
    }

    /// <summary>Gives the user <paramref name="role"/> instead of their current one. Their open sessions end, so the
    /// new role applies from their next sign-in.</summary>
    public Task ChangeRoleAsync(Actor actor, string userId, string role, CancellationToken ct) =>
        ChangeUserAsync(actor, AuditActions.UserRoleChanged, userId, ct, async (user, users, db) =>
        {
            var newRole = RequireRole(role);
            var current = (await users.GetRolesAsync(user)).Where(r => ConsoleRoles.All.Contains(r)).ToList();
            if (current.Count == 1 && current[0] == newRole)
            {
                throw new UserAdministrationException($"{user.Email} already has the role {newRole}. Nothing was changed.");
            }

            if (newRole != ConsoleRoles.Admin && await IsLastActiveAdminAsync(db, user, ct))
            {
                throw new UserAdministrationException(
                    $"{user.Email} is the only active administrator, so they keep the Admin role. Make another user an administrator first. Nothing was changed.");
            }

            if (current.Count > 0)
            {
                ThrowIfFailed(await users.RemoveFromRolesAsync(user, current), "The role was not changed");
            }

            ThrowIfFailed(await users.AddToRoleAsync(user, newRole), "The role was not changed");
            ThrowIfFailed(await users.UpdateSecurityStampAsync(user), "The role was not changed");
            return $"{(current.Count == 0 ? "no role" : string.Join(", ", current))} → {newRole}";
        });

    /// <summary>Stops the user from signing in and ends their open sessions.</summary>
    public Task DisableAsync(Actor actor, string userId, CancellationToken ct) =>
        ChangeUserAsync(actor, AuditActions.UserDisabled, userId, ct, async (user, users, db) =>
        {
            if (user.IsDisabled)
            {
                throw new UserAdministrationException($"{user.Email} is already disabled. Nothing was changed.");
            }

            if (user.Id == actor.UserId)
            {
                throw new UserAdministrationException("You cannot disable your own account. Ask another administrator to do it. Nothing was changed.");
            }

            if (await IsLastActiveAdminAsync(db, user, ct))
            {
                throw new UserAdministrationException(
                    $"{user.Email} is the only active administrator and cannot be disabled. Make another user an administrator first. Nothing was changed.");
            }

            user.IsDisabled = true;
            // Saves the flag and a new stamp together: every cookie issued before now fails its next check.
            ThrowIfFailed(await users.UpdateSecurityStampAsync(user), "The user was not disabled");
            return null;
        });

    /// <summary>Lets a disabled user sign in again (with their existing password).</summary>
    public Task EnableAsync(Actor actor, string userId, CancellationToken ct) =>
        ChangeUserAsync(actor, AuditActions.UserEnabled, userId, ct, async (user, users, _) =>
        {
            if (!user.IsDisabled)
            {
                throw new UserAdministrationException($"{user.Email} is not disabled. Nothing was changed.");
            }

            user.IsDisabled = false;
            ThrowIfFailed(await users.UpdateAsync(user), "The user was not enabled");
            return null;
        });

    /// <summary>Sets a new password chosen by the administrator (checked against the password policy) and ends the
    /// user's open sessions; the person must replace it at their next sign-in.</summary>
    public Task ResetPasswordAsync(Actor actor, string userId, string newPassword, CancellationToken ct) =>
        ChangeUserAsync(actor, AuditActions.UserPasswordReset, userId, ct, async (user, users, _) =>
        {
            if (string.IsNullOrEmpty(newPassword))
            {
                throw new UserAdministrationException("The password was not reset: a new password is needed. Nothing was changed.");
            }

            // The reset token path checks the policy before anything is written and changes the security stamp.
            user.MustChangePassword = true;
            var token = await users.GeneratePasswordResetTokenAsync(user);
            ThrowIfFailed(await users.ResetPasswordAsync(user, token, newPassword), "The password was not reset");
            return null;
        });

    /// <summary>Lifts a lockout caused by repeated failed sign-ins.</summary>
    public Task UnlockAsync(Actor actor, string userId, CancellationToken ct) =>
        ChangeUserAsync(actor, AuditActions.UserUnlocked, userId, ct, async (user, users, _) =>
        {
            var wasLocked = user.LockoutEnd is { } end && end > time.GetUtcNow();
            var failures = user.AccessFailedCount;
            if (!wasLocked && failures == 0)
            {
                throw new UserAdministrationException($"{user.Email} is not locked out. Nothing was changed.");
            }

            ThrowIfFailed(await users.SetLockoutEndDateAsync(user, null), "The user was not unlocked");
            ThrowIfFailed(await users.ResetAccessFailedCountAsync(user), "The user was not unlocked");
            return wasLocked ? null : $"cleared {failures} failed sign-ins";
        });

    /// <summary>Changes that end the account's open sessions: its circuits here are told at once.</summary>
    private static readonly HashSet<string> EndsSessions = [AuditActions.UserRoleChanged, AuditActions.UserDisabled, AuditActions.UserPasswordReset];

    private async Task ChangeUserAsync(Actor actor, string action, string userId, CancellationToken ct,
        Func<ConsoleUser, UserManager<ConsoleUser>, ConsoleDbContext, Task<string?>> change)
    {
        await ChangeAsync(actor, action, userId, ct, demand: true, async account =>
        {
            var user = await account.Users.FindByIdAsync(userId)
                ?? throw new UserAdministrationException("That user no longer exists. Reload the list. Nothing was changed.");
            account.Target = user.Email ?? user.UserName ?? userId;
            return await change(user, account.Users, account.Db);
        });
        if (EndsSessions.Contains(action))
        {
            revocations.Publish(userId);
        }
    }

    private Task ChangeAsync(Actor actor, string action, string target, CancellationToken ct,
        Func<UserManager<ConsoleUser>, ConsoleDbContext, Task<string?>> change) =>
        ChangeAsync(actor, action, target, ct, demand: false, account => change(account.Users, account.Db));

    /// <summary>Runs one account change in a transaction under the account lock and records its single audit event.</summary>
    private async Task ChangeAsync(Actor actor, string action, string target, CancellationToken ct, bool demand, Func<AccountChange, Task<string?>> change)
    {
        if (demand)
        {
            actor = await gate.DemandAsync(actor, ConsolePermission.ManageUsers, action, target, ct);
        }

        await using var scope = scopes.CreateAsyncScope();
        var account = new AccountChange(scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>(), scope.ServiceProvider.GetRequiredService<ConsoleDbContext>()) { Target = target };
        try
        {
            await using var tx = await account.Db.Database.BeginTransactionAsync(ct);
            await AccountChangeLock.AcquireAsync(account.Db, ct);
            var detail = await change(account);
            await tx.CommitAsync(ct);
            await audit.RecordAsync(actor, action, account.Target, AuditOutcome.Succeeded, detail, CancellationToken.None);
        }
        catch (UserAdministrationException e)
        {
            await audit.RecordAsync(actor, action, account.Target, AuditOutcome.Failed, e.Message, CancellationToken.None);
            throw;
        }
        catch (Exception e)
        {
            await audit.RecordAsync(actor, action, account.Target, AuditOutcome.Failed, $"stopped by {e.GetType().Name}; nothing was changed", CancellationToken.None);
            throw;
        }
    }

    private sealed class AccountChange(UserManager<ConsoleUser> users, ConsoleDbContext db)
    {
        public UserManager<ConsoleUser> Users => users;
        public ConsoleDbContext Db => db;
        /// <summary>What the audit event names: the account's email once it is known.</summary>
        public required string Target { get; set; }
    }

    private static string RequireRole(string? role) =>
        ConsoleRoles.All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new UserAdministrationException($"'{role}' is not a console role. Pick one of {string.Join(", ", ConsoleRoles.All)}. Nothing was changed.");

    /// <summary>Whether <paramref name="user"/> is an enabled Admin and no other enabled Admin exists.</summary>
    internal static async Task<bool> IsLastActiveAdminAsync(ConsoleDbContext db, ConsoleUser user, CancellationToken ct)
    {
        var activeAdmins = await (
            from ur in db.UserRoles
            join r in db.Roles on ur.RoleId equals r.Id
            join u in db.Users on ur.UserId equals u.Id
            where r.Name == ConsoleRoles.Admin && !u.IsDisabled
            select u.Id).ToListAsync(ct);
        return activeAdmins.Count == 1 && activeAdmins[0] == user.Id;
    }

    private static void ThrowIfFailed(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            // Identity's error texts name the rule broken ("Passwords must have at least one digit"), never the password.
            throw new UserAdministrationException($"{what}: {string.Join(" ", result.Errors.Select(e => e.Description))} Nothing was changed.");
        }
    }
}
