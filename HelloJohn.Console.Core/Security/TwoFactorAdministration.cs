using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Settings;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Security;

/// <summary>What administrators decide about second factors: whether Admins must sign in with one, and taking it off an
/// account whose phone is lost. Both need <see cref="ConsolePermission.ManageUsers"/> and are audited.</summary>
public sealed class TwoFactorAdministration(IServiceScopeFactory scopes, IDbContextFactory<ConsoleDbContext> dbFactory, IAuditLog audit, CallerGate gate, TimeProvider time)
{
    public const string RequiredForAdminsKey = "security.two_factor_required_for_admins";

    /// <summary>Whether every Admin must use two-factor sign-in (read at each page an Admin opens).</summary>
    public async Task<bool> IsRequiredForAdminsAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<ConsoleSetting>().AsNoTracking().AnyAsync(s => s.Key == RequiredForAdminsKey && s.Value == "true", ct);
    }

    /// <summary>Requires (or stops requiring) two-factor sign-in for Admins. Turning it on needs the acting Admin to use
    /// one already, so the change cannot stop its own author at the next page.</summary>
    public async Task SetRequiredForAdminsAsync(Actor actor, bool required, CancellationToken ct)
    {
        const string target = "two-factor sign-in for administrators";
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageUsers, AuditActions.SettingsChanged, target, ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (required && !await db.Users.AnyAsync(u => u.Id == actor.UserId && u.TwoFactorEnabled, ct))
        {
            const string why = "Turn on two-factor sign-in for your own account first (the shield button in the top bar); nothing was changed.";
            await audit.RecordAsync(actor, AuditActions.SettingsChanged, target, AuditOutcome.Failed, why, ct);
            throw new UserAdministrationException(why);
        }

        var setting = await db.Set<ConsoleSetting>().SingleOrDefaultAsync(s => s.Key == RequiredForAdminsKey, ct);
        if (setting is null)
        {
            setting = new ConsoleSetting { Key = RequiredForAdminsKey, Value = "false" };
            db.Add(setting);
        }

        var before = setting.Value == "true";
        setting.Value = required ? "true" : "false";
        setting.UpdatedAt = time.GetUtcNow();
        setting.UpdatedBy = actor.Name;
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.SettingsChanged, target, AuditOutcome.Succeeded,
            $"{(before ? "required" : "optional")} → {(required ? "required: Admins without it set it up at their next page" : "optional")}", CancellationToken.None);
    }

    /// <summary>Turns off another person's two-factor sign-in (their phone is lost, they used up their recovery codes).
    /// Their sessions end; they sign in with their password and may set it up again.</summary>
    public async Task ResetAsync(Actor actor, string userId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        var user = await users.FindByIdAsync(userId);
        var target = user?.Email ?? userId;
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageUsers, AuditActions.UserTwoFactorReset, target, ct);

        var why = user switch
        {
            null => "That user no longer exists. Reload the list.",
            { TwoFactorEnabled: false } => $"{target} does not use two-factor sign-in.",
            _ when user.Id == actor.UserId => "Turn off your own two-factor sign-in on your account's two-factor page, with your password.",
            _ => null,
        };
        if (why is not null)
        {
            await audit.RecordAsync(actor, AuditActions.UserTwoFactorReset, target, AuditOutcome.Failed, why, ct);
            throw new UserAdministrationException($"{why} Nothing was changed.");
        }

        await TwoFactorEnrollment.TurnOffAsync(users, user!);
        await audit.RecordAsync(actor, AuditActions.UserTwoFactorReset, target, AuditOutcome.Succeeded,
            "Two-factor sign-in turned off by an administrator; the account's sessions end and its recovery codes no longer work.", CancellationToken.None);
    }
}
