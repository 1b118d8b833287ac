using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Security.ApiTokens;

public sealed record ApiTokenSummary(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt, string? LastUsedFrom)
{
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;
}

/// <summary>A new token; <see cref="Token"/> is shown this once and never stored.</summary>
public sealed record CreatedApiToken(ApiTokenSummary Summary, string Token);

/// <summary>Who a presented token speaks for, as their account stands now; or why it was refused.</summary>
public sealed record ApiTokenCheck(Actor? Actor, Guid? TokenId, string? TokenName, string? Prefix, string? Refusal)
{
    public bool Succeeded => Actor is not null;
}

/// <summary>Personal API tokens: each person creates, lists and revokes their own. Only a SHA-256 of each token is kept.
/// Every request re-reads the owner's account, so a disabled, locked or demoted user's tokens lose their power at once.</summary>
public sealed class ApiTokenService(IDbContextFactory<ConsoleDbContext> dbFactory, IAuditLog audit, TimeProvider time)
{
    public const int MaxActivePerUser = 25;
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366);

    public async Task<CreatedApiToken> CreateAsync(Actor actor, string name, DateTimeOffset expiresAt, CancellationToken ct)
    {
        var trimmed = name?.Trim() ?? "";
        await DemandAsync(actor, AuditActions.ApiTokenCreated, trimmed, ct);
        var now = time.GetUtcNow();
        string? problem = trimmed.Length is 0 or > 100 ? "a name of 1 to 100 characters is needed, to recognise it later"
            : expiresAt <= now.AddMinutes(5) ? "the expiry must be in the future"
            : expiresAt > now + MaxLifetime ? $"a token lives at most {MaxLifetime.TotalDays:0} days; pick an earlier expiry"
            : null;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (problem is null && await db.Set<ApiToken>().CountAsync(t => t.UserId == actor.UserId && t.RevokedAt == null && t.ExpiresAt > now, ct) >= MaxActivePerUser)
        {
            problem = $"you have {MaxActivePerUser} active tokens already; revoke one you no longer use";
        }

        if (problem is not null)
        {
            await audit.RecordAsync(actor, AuditActions.ApiTokenCreated, trimmed, AuditOutcome.Failed, problem, ct);
            throw new ArgumentException($"The token was not created: {problem}. Nothing was changed.");
        }

        for (var attempt = 0; ; attempt++)
        {
            var token = ApiTokenFormat.NewToken();
            var row = new ApiToken
            {
                Id = Guid.NewGuid(),
                UserId = actor.UserId!,
                Name = trimmed,
                Prefix = ApiTokenFormat.PrefixOf(token),
                Hash = ApiTokenFormat.HashOf(token),
                CreatedAt = now,
                ExpiresAt = expiresAt,
            };
            db.Add(row);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && attempt < 3)
            {
                // Two tokens drew the same first characters: draw again.
                db.Entry(row).State = EntityState.Detached;
                continue;
            }

            await audit.RecordAsync(actor, AuditActions.ApiTokenCreated, $"{trimmed} ({row.Prefix}…)", AuditOutcome.Succeeded,
                $"expires {expiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC; acts with the owner's role", CancellationToken.None);
            return new CreatedApiToken(Summary(row), token);
        }
    }

    /// <summary>The caller's own tokens, newest first (revoked and expired ones too, for the record).</summary>
    public async Task<IReadOnlyList<ApiTokenSummary>> ListMineAsync(Actor actor, CancellationToken ct)
    {
        await DemandAsync(actor, null, null, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<ApiToken>().AsNoTracking().Where(t => t.UserId == actor.UserId).OrderByDescending(t => t.CreatedAt).ToListAsync(ct);
        return [.. rows.Select(Summary)];
    }

    /// <summary>Revokes one of the caller's own tokens; it stops working at its next request.</summary>
    public async Task RevokeAsync(Actor actor, Guid tokenId, CancellationToken ct)
    {
        await DemandAsync(actor, AuditActions.ApiTokenRevoked, tokenId.ToString(), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Someone else's token is "not found": its owner alone may know it exists.
        var row = await db.Set<ApiToken>().FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == actor.UserId, ct)
            ?? throw new KeyNotFoundException("You have no such token. Reload the list. Nothing was changed.");
        if (row.RevokedAt is not null)
        {
            throw new InvalidOperationException($"The token '{row.Name}' was already revoked. Nothing was changed.");
        }

        row.RevokedAt = time.GetUtcNow();
        row.RevokedBy = actor.Name;
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.ApiTokenRevoked, $"{row.Name} ({row.Prefix}…)", AuditOutcome.Succeeded, "revoked by its owner; it stops working at once", CancellationToken.None);
    }

    /// <summary>Checks a presented token and its owner's account as they are now. Refusals say why, for the 401 answer;
    /// they never say whose token it was.</summary>
    public async Task<ApiTokenCheck> CheckAsync(string presented, string? from, CancellationToken ct)
    {
        if (!ApiTokenFormat.LooksLikeToken(presented))
        {
            return Refused("that is not a HelloJohn Console API token (they start with hjc_)");
        }

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var prefix = ApiTokenFormat.PrefixOf(presented);
        var row = await db.Set<ApiToken>().AsNoTracking().FirstOrDefaultAsync(t => t.Prefix == prefix, ct);
        if (row is null || !ApiTokenFormat.HashMatches(presented, row.Hash))
        {
            return Refused("the token is not known");
        }

        if (row.RevokedAt is not null)
        {
            return Refused("the token was revoked");
        }

        if (row.ExpiresAt <= now)
        {
            return Refused("the token has expired");
        }

        var user = await db.Users.AsNoTracking().Where(u => u.Id == row.UserId)
            .Select(u => new { u.Id, u.Email, u.UserName, u.IsDisabled, u.LockoutEnd }).FirstOrDefaultAsync(ct);
        if (user is null || user.IsDisabled || user.LockoutEnd > now)
        {
            return Refused("the token's account is disabled or locked");
        }

        var roles = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where ur.UserId == user.Id select r.Name!).ToListAsync(ct);
        if (row.LastUsedAt is null || row.LastUsedAt < now.AddMinutes(-1) || row.LastUsedFrom != from)
        {
            // Recorded at most once a minute per address: a script polling every second does not write every second.
            await db.Set<ApiToken>().Where(t => t.Id == row.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now).SetProperty(t => t.LastUsedFrom, from), ct);
        }

        return new ApiTokenCheck(new Actor(user.Id, user.Email ?? user.UserName ?? user.Id, [.. roles.Where(r => ConsoleRoles.All.Contains(r))]), row.Id, row.Name, row.Prefix, null);
    }

    private static ApiTokenCheck Refused(string why) => new(null, null, null, null, why);

    private static ApiTokenSummary Summary(ApiToken t) => new(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.LastUsedFrom);

    private async Task DemandAsync(Actor actor, string? action, string? target, CancellationToken ct)
    {
        if (!actor.Has(ConsolePermission.ManageOwnApiTokens) || actor.UserId is null)
        {
            if (action is not null)
            {
                await audit.RecordAsync(actor, action, target, AuditOutcome.Denied, "needs a signed-in console account; nothing was changed", ct);
            }

            actor.Demand(ConsolePermission.ManageOwnApiTokens);
            throw new PermissionDeniedException(actor, ConsolePermission.ManageOwnApiTokens);
        }
    }
}
