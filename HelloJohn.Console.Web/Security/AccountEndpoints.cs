using HelloJohn.Console.Core.Audit;
using Microsoft.AspNetCore.Antiforgery;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace HelloJohn.Console.Web.Security;

/// <summary>Sign-in and sign-out. They are plain form posts (not interactive components) because the cookie must be
/// written on an HTTP response. Antiforgery is checked by the framework for every form post.</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/signin", SignInAsync).AllowAnonymous();
        app.MapPost("/account/signout", SignOutAsync);
        app.MapPost("/account/password", ChangePasswordAsync);
        return app;
    }

    private static async Task<IResult> SignInAsync(
        [FromForm] string email,
        [FromForm] string password,
        [FromForm] string? returnUrl,
        SignInManager<ConsoleUser> signIn,
        UserManager<ConsoleUser> users,
        IAuditLog audit,
        TimeProvider time)
    {
        var back = SafeReturnUrl(returnUrl);
        var user = string.IsNullOrWhiteSpace(email) ? null : await users.FindByEmailAsync(email.Trim());
        var who = new Actor(user?.Id, string.IsNullOrWhiteSpace(email) ? "(empty)" : email.Trim(), []);
        if (user is null || string.IsNullOrEmpty(password))
        {
            await audit.RecordAsync(who, AuditActions.SignInFailed, null, AuditOutcome.Failed, "unknown account or empty password");
            return Results.LocalRedirect($"/signin?error=invalid&returnUrl={Uri.EscapeDataString(back)}");
        }

        if (user.IsDisabled)
        {
            await audit.RecordAsync(who, AuditActions.SignInFailed, null, AuditOutcome.Denied, "account disabled");
            return Results.LocalRedirect($"/signin?error=disabled&returnUrl={Uri.EscapeDataString(back)}");
        }

        var result = await signIn.PasswordSignInAsync(user, password, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            user.LastSignInAt = time.GetUtcNow();
            await users.UpdateAsync(user);
            await audit.RecordAsync(who, AuditActions.SignInSucceeded, null, AuditOutcome.Succeeded);
            return Results.LocalRedirect(back);
        }

        if (result.RequiresTwoFactor)
        {
            // The password was right; the second factor decides (and audits) the sign-in.
            return Results.LocalRedirect($"{AccountGate.TwoFactorSignInPath}?returnUrl={Uri.EscapeDataString(back)}");
        }
        await audit.RecordAsync(who, AuditActions.SignInFailed, null, result.IsLockedOut ? AuditOutcome.Denied : AuditOutcome.Failed,
            result.IsLockedOut ? "account locked after repeated failures" : "wrong password");
        if (result.IsLockedOut)
        {
            // The sign-in page says when the lockout ends.
            var until = await users.GetLockoutEndDateAsync(user);
            return Results.LocalRedirect($"/signin?error=locked&until={until?.ToUnixTimeSeconds()}&returnUrl={Uri.EscapeDataString(back)}");
        }

        return Results.LocalRedirect($"/signin?error=invalid&returnUrl={Uri.EscapeDataString(back)}");
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery, SignInManager<ConsoleUser> signIn, IAuditLog audit)
    {
        // The form has no fields to bind, so the framework would not check its token by itself: a page elsewhere
        // could otherwise sign people out.
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Results.BadRequest("The sign-out form has expired. Reload the page and sign out again.");
        }

        var who = CurrentActor.FromPrincipal(http.User);
        await signIn.SignOutAsync();
        await audit.RecordAsync(who, AuditActions.SignedOut, null, AuditOutcome.Succeeded);
        return Results.LocalRedirect("/signin");
    }

    /// <summary>The signed-in person changes their own password. A wrong current password counts as a failed sign-in
    /// (five lock the account); success renews this session's cookie and, through the new security stamp, ends every
    /// other session of the account at its next check.</summary>
    private static async Task<IResult> ChangePasswordAsync(
        [FromForm] string currentPassword,
        [FromForm] string newPassword,
        [FromForm] string confirmPassword,
        HttpContext http,
        SignInManager<ConsoleUser> signIn,
        UserManager<ConsoleUser> users,
        IAuditLog audit)
    {
        var user = await users.GetUserAsync(http.User);
        if (user is null || user.IsDisabled)
        {
            return Results.LocalRedirect("/signin");
        }

        var who = CurrentActor.FromPrincipal(http.User);
        if (newPassword != confirmPassword)
        {
            return Results.LocalRedirect("/account/password?error=mismatch");
        }

        if (newPassword == currentPassword)
        {
            return Results.LocalRedirect("/account/password?error=same");
        }

        if (PasswordPolicy.Problems(newPassword) is { Count: > 0 } lacking)
        {
            return Results.LocalRedirect($"/account/password?error=policy&rules={Uri.EscapeDataString("it needs " + string.Join(", ", lacking))}");
        }

        var forced = user.MustChangePassword;
        var result = await users.ChangePasswordAsync(user, currentPassword, newPassword);
        if (result.Succeeded)
        {
            if (forced)
            {
                user.MustChangePassword = false;
                await users.UpdateAsync(user);
            }

            await signIn.RefreshSignInAsync(user);
            await audit.RecordAsync(who, AuditActions.PasswordChanged, who.Name, AuditOutcome.Succeeded,
                forced ? "Replaced the password an administrator set, at the first sign-in." : "Changed by the account's owner; the account's other sessions end at their next check.");
            return Results.LocalRedirect(forced ? "/" : "/account/password?changed=1");
        }

        if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.PasswordMismatch)))
        {
            await users.AccessFailedAsync(user);
            var locked = await users.IsLockedOutAsync(user);
            await audit.RecordAsync(who, AuditActions.PasswordChanged, who.Name, locked ? AuditOutcome.Denied : AuditOutcome.Failed,
                locked ? "Wrong current password; the account is now locked after repeated failures." : "Wrong current password; nothing was changed.");
            if (locked)
            {
                await signIn.SignOutAsync();
                return Results.LocalRedirect($"/signin?error=locked&until={(await users.GetLockoutEndDateAsync(user))?.ToUnixTimeSeconds()}");
            }

            return Results.LocalRedirect("/account/password?error=wrong");
        }

        // The policy's own words (length, character classes); they describe the rule, never the password.
        var rules = string.Join(" ", result.Errors.Select(e => e.Description));
        await audit.RecordAsync(who, AuditActions.PasswordChanged, who.Name, AuditOutcome.Failed, "The new password does not meet the password policy; nothing was changed.");
        return Results.LocalRedirect($"/account/password?error=policy&rules={Uri.EscapeDataString(rules)}");
    }

    internal static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl
            : "/";
}
