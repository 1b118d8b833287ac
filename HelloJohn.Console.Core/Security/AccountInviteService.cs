using System.Security.Cryptography;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Security;

/// <summary>A new account invited by link, instead of a password typed by an administrator.</summary>
public sealed record NewConsoleInvitee(string Email, string? DisplayName, string Role);

/// <summary>A link just issued. <see cref="Token"/> is shown once, to the administrator; only its hash is stored.</summary>
public sealed record InviteLink(string UserId, string Email, string Token, DateTimeOffset ExpiresAt)
{
    public string PathAndQuery => $"/invite?token={Uri.EscapeDataString(Token)}";
}

/// <summary>What the invite page shows before the password is chosen.</summary>
public sealed record InviteView(string Email, string? DisplayName, DateTimeOffset ExpiresAt);

/// <summary>The link cannot be used (unknown, used, replaced, expired, account disabled); the message says what to do.</summary>
public sealed class InviteRefusedException(string message) : Exception(message);

/// <summary>One-time invite links: an administrator creates an account without a password (or issues a new link for an
/// account), the person opens the link and chooses their password. A link works once, expires after
/// <see cref="ConsoleSecurityOptions.InviteLifetime"/>, is replaced by a newer one, and every step is audited.</summary>
public sealed class AccountInviteService(
    IServiceScopeFactory scopes,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    UserAdministrationService accounts,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time,
    IOptions<ConsoleSecurityOptions> options)
{
    /// <summary>Creates the account (role, no password) and its first link.</summary>
    public async Task<InviteLink> InviteAsync(Actor actor, NewConsoleInvitee request, CancellationToken ct)
    {
        var userId = await accounts.CreateAsync(actor, new NewConsoleUser(request.Email, request.DisplayName, request.Role, InitialPassword: null), ct);
        return await IssueAsync(actor, userId, ct);
    }

    /// <summary>A new link for an existing account; earlier unused links stop working.</summary>
    public async Task<InviteLink> IssueAsync(Actor actor, string userId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, ct);
        var target = user?.Email ?? userId;
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageUsers, AuditActions.UserInvited, target, ct);

        if (user is null || user.IsDisabled)
        {
            var why = user is null ? "That user no longer exists. Reload the list." : $"{user.Email} is disabled; enable the account first.";
            await audit.RecordAsync(actor, AuditActions.UserInvited, target, AuditOutcome.Failed, why, ct);
            throw new UserAdministrationException($"No invite link was made: {why} Nothing was changed.");
        }

        var now = time.GetUtcNow();
        var token = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var invite = new AccountInvite
        {
            Id = Guid.NewGuid(),
            UserId = user.Id,
            TokenHash = Hash(token),
            CreatedAt = now,
            ExpiresAt = now + options.Value.InviteLifetime,
            CreatedBy = actor.Name,
        };
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var replaced = await db.Set<AccountInvite>().Where(i => i.UserId == user.Id && i.UsedAt == null && i.RevokedAt == null)
                .ExecuteUpdateAsync(i => i.SetProperty(x => x.RevokedAt, now), ct);
            db.Add(invite);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            await audit.RecordAsync(actor, AuditActions.UserInvited, target, AuditOutcome.Succeeded,
                $"One-time link valid until {invite.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC{(replaced > 0 ? "; the earlier link no longer works" : "")}.", CancellationToken.None);
        }

        return new InviteLink(user.Id, target, token, invite.ExpiresAt);
    }

    /// <summary>The account a link is for, while the link can still be used.</summary>
    public async Task<InviteView> GetAsync(string? token, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var invite = await FindAsync(db, token, ct);
        var why = Problem(invite);
        if (why is not null)
        {
            throw new InviteRefusedException(why);
        }

        return new InviteView(invite!.User!.Email ?? invite.User.UserName ?? "", invite.User.DisplayName, invite.ExpiresAt);
    }

    /// <summary>Sets the password chosen through the link and uses the link up. Returns the account's email. Throws
    /// <see cref="InviteRefusedException"/> for a link that cannot be used and <see cref="UserAdministrationException"/>
    /// for a password that is refused (the link then still works).</summary>
    public async Task<string> AcceptAsync(string? token, string? password, string? confirmation, CancellationToken ct)
    {
        if (password != confirmation)
        {
            throw new UserAdministrationException("The two passwords differ. Nothing was changed; the link still works.");
        }

        if (PasswordPolicy.Problems(password) is { Count: > 0 } lacking)
        {
            throw new UserAdministrationException($"The password needs {string.Join(", ", lacking)}. Nothing was changed; the link still works.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConsoleDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        var invite = await FindAsync(db, token, ct);
        var who = new Actor(invite?.UserId, invite?.User?.Email ?? "(invite link)", []);
        if (Problem(invite) is { } why)
        {
            await audit.RecordAsync(who, AuditActions.InviteAccepted, invite?.User?.Email, AuditOutcome.Denied, why, ct);
            throw new InviteRefusedException(why);
        }

        var now = time.GetUtcNow();
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // Claimed in one statement, so two browsers posting the same link cannot both use it.
            var claimed = await db.Set<AccountInvite>()
                .Where(i => i.Id == invite!.Id && i.UsedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
                .ExecuteUpdateAsync(i => i.SetProperty(x => x.UsedAt, now), ct);
            if (claimed == 0)
            {
                const string used = "This invite link has just been used. Sign in with the password chosen, or ask an administrator for a new link.";
                await audit.RecordAsync(who, AuditActions.InviteAccepted, who.Name, AuditOutcome.Denied, used, ct);
                throw new InviteRefusedException(used);
            }

            var user = invite!.User!;
            user.MustChangePassword = false;
            var reset = await users.ResetPasswordAsync(user, await users.GeneratePasswordResetTokenAsync(user), password!);
            if (!reset.Succeeded)
            {
                // Rolled back with the claim: the link still works for a better password.
                throw new UserAdministrationException($"The password was not set: {string.Join(" ", reset.Errors.Select(e => e.Description))} The link still works.");
            }

            await users.ResetAccessFailedCountAsync(user);
            await tx.CommitAsync(ct);
        }

        await audit.RecordAsync(who, AuditActions.InviteAccepted, who.Name, AuditOutcome.Succeeded, "Password chosen through the one-time link; the link is used up.", CancellationToken.None);
        return who.Name;
    }

    private static async Task<AccountInvite?> FindAsync(ConsoleDbContext db, string? token, CancellationToken ct) =>
        string.IsNullOrWhiteSpace(token) ? null
            : await db.Set<AccountInvite>().Include(i => i.User).SingleOrDefaultAsync(i => i.TokenHash == Hash(token.Trim()), ct);

    private string? Problem(AccountInvite? invite) => invite switch
    {
        null or { User: null } => "This invite link is not known. Check that it was copied whole, or ask an administrator for a new one.",
        { UsedAt: not null } => "This invite link was already used. Sign in with the password chosen then, or ask an administrator for a new link.",
        { RevokedAt: not null } => "A newer invite link replaced this one. Use the newest link, or ask an administrator for a new one.",
        _ when invite.ExpiresAt <= time.GetUtcNow() => $"This invite link expired on {invite.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC. Ask an administrator for a new one.",
        { User.IsDisabled: true } => "This account is disabled. Ask an administrator.",
        _ => null,
    };

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
}
