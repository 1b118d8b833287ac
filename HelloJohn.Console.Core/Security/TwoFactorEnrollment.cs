using System.Globalization;
using System.Text;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.Identity;

namespace HelloJohn.Console.Core.Security;

/// <summary>What the person needs to add the console to their authenticator app: the shared key (grouped for typing),
/// the otpauth URI (for the QR code) and the state of their second factor.</summary>
public sealed record AuthenticatorSetup(string SharedKey, string OtpAuthUri, bool Enabled, int RecoveryCodesLeft);

/// <summary>A person turns two-factor sign-in (TOTP, RFC 6238) on or off for their own account and renews their recovery
/// codes. Scoped to the request: the page re-issues the sign-in cookie with the same user afterwards, because every change
/// here renews the account's security stamp.</summary>
public sealed class TwoFactorEnrollment(UserManager<ConsoleUser> users, IAuditLog audit)
{
    public const string Issuer = "HelloJohn Console";
    public const int RecoveryCodeCount = 10;

    /// <summary>The key and URI to show; a key is made the first time. Returns whether a key was made (the stamp changed).</summary>
    public async Task<(AuthenticatorSetup Setup, bool KeyCreated)> GetSetupAsync(ConsoleUser user)
    {
        var key = await users.GetAuthenticatorKeyAsync(user);
        var created = false;
        if (string.IsNullOrEmpty(key))
        {
            Check(await users.ResetAuthenticatorKeyAsync(user));
            key = await users.GetAuthenticatorKeyAsync(user) ?? throw new InvalidOperationException("Identity gave the account no authenticator key.");
            created = true;
        }

        var account = user.Email ?? user.UserName ?? user.Id;
        var uri = $"otpauth://totp/{Uri.EscapeDataString(Issuer)}:{Uri.EscapeDataString(account)}?secret={key}&issuer={Uri.EscapeDataString(Issuer)}&digits=6&period=30";
        var left = user.TwoFactorEnabled ? await users.CountRecoveryCodesAsync(user) : 0;
        return (new AuthenticatorSetup(Group(key), uri, user.TwoFactorEnabled, left), created);
    }

    /// <summary>Turns two-factor sign-in on once <paramref name="code"/> proves the app holds the key. Returns the recovery
    /// codes (shown once) or null when the code is wrong.</summary>
    public async Task<IReadOnlyList<string>?> EnableAsync(ConsoleUser user, string? code)
    {
        var who = ActorOf(user);
        var digits = Digits(code);
        if (digits.Length == 0 || !await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, digits))
        {
            await audit.RecordAsync(who, AuditActions.TwoFactorEnabled, who.Name, AuditOutcome.Failed, "The code from the app did not match; two-factor sign-in stays off.");
            return null;
        }

        Check(await users.SetTwoFactorEnabledAsync(user, true));
        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount) ?? [];
        await audit.RecordAsync(who, AuditActions.TwoFactorEnabled, who.Name, AuditOutcome.Succeeded, $"Authenticator app confirmed; {RecoveryCodeCount} recovery codes issued.");
        return [.. codes];
    }

    /// <summary>New recovery codes (the old ones stop working).</summary>
    public async Task<IReadOnlyList<string>> RenewRecoveryCodesAsync(ConsoleUser user)
    {
        if (!user.TwoFactorEnabled)
        {
            throw new UserAdministrationException("Two-factor sign-in is off, so there are no recovery codes to renew. Nothing was changed.");
        }

        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount) ?? [];
        var who = ActorOf(user);
        await audit.RecordAsync(who, AuditActions.RecoveryCodesRenewed, who.Name, AuditOutcome.Succeeded, $"{RecoveryCodeCount} new recovery codes; the earlier ones no longer work.");
        return [.. codes];
    }

    /// <summary>Turns two-factor sign-in off after the current password proves it is the person. False when it is wrong.</summary>
    public async Task<bool> DisableAsync(ConsoleUser user, string? password)
    {
        var who = ActorOf(user);
        if (string.IsNullOrEmpty(password) || !await users.CheckPasswordAsync(user, password))
        {
            await users.AccessFailedAsync(user);
            await audit.RecordAsync(who, AuditActions.TwoFactorDisabled, who.Name, AuditOutcome.Failed, "Wrong password; two-factor sign-in stays on.");
            return false;
        }

        await TurnOffAsync(users, user);
        await audit.RecordAsync(who, AuditActions.TwoFactorDisabled, who.Name, AuditOutcome.Succeeded, "Turned off by the account's owner; the authenticator key and recovery codes were discarded.");
        return true;
    }

    /// <summary>Off, with a fresh key nobody has scanned and no recovery codes: the next set-up starts clean.</summary>
    internal static async Task TurnOffAsync(UserManager<ConsoleUser> users, ConsoleUser user)
    {
        Check(await users.SetTwoFactorEnabledAsync(user, false));
        Check(await users.ResetAuthenticatorKeyAsync(user));
        // Where Identity's own store keeps a user's recovery codes.
        Check(await users.RemoveAuthenticationTokenAsync(user, "[AspNetUserStore]", "RecoveryCodes"));
    }

    /// <summary>The digits of a code as typed ("123 456", "123-456").</summary>
    public static string Digits(string? code) => new((code ?? "").Where(char.IsAsciiDigit).ToArray());

    private static Actor ActorOf(ConsoleUser user) => new(user.Id, user.Email ?? user.UserName ?? user.Id, []);

    private static string Group(string key)
    {
        var grouped = new StringBuilder();
        for (var i = 0; i < key.Length; i += 4)
        {
            grouped.Append(key.AsSpan(i, Math.Min(4, key.Length - i))).Append(' ');
        }

        return grouped.ToString().TrimEnd().ToLower(CultureInfo.InvariantCulture);
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new UserAdministrationException($"Two-factor sign-in was not changed: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }
}
