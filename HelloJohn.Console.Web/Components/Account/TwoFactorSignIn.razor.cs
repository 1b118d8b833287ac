using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;

namespace HelloJohn.Console.Web.Components.Account;

/// <summary>The second step of signing in, after a right password: a code from the authenticator app, or a recovery
/// code. A static page posting to itself, because the session cookie is written on its response.</summary>
public partial class TwoFactorSignIn
{
    private ConsoleUser? _user;
    private string? _email;
    private string? _error;

    [Inject] private SignInManager<ConsoleUser> SignIn { get; set; } = default!;
    [Inject] private UserManager<ConsoleUser> Users { get; set; } = default!;
    [Inject] private IAuditLog Audit { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [SupplyParameterFromQuery]
    private string? ReturnUrl { get; set; }

    [SupplyParameterFromQuery(Name = "recovery")]
    private string? Recovery { get; set; }

    [SupplyParameterFromForm]
    private string? Code { get; set; }

    [SupplyParameterFromForm]
    private string? RecoveryCode { get; set; }

    protected override async Task OnInitializedAsync()
    {
        // Set by the password step; it lasts minutes, so a stale tab starts again.
        _user = await SignIn.GetTwoFactorAuthenticationUserAsync();
        if (_user is null)
        {
            Navigation.NavigateTo("/signin?error=expired");
            return;
        }

        _email = _user.Email;
    }

    private Task UseAuthenticatorCodeAsync() =>
        CompleteAsync(SignIn.TwoFactorAuthenticatorSignInAsync(TwoFactorEnrollment.Digits(Code), isPersistent: false, rememberClient: false), "authenticator app");

    private Task UseRecoveryCodeAsync() =>
        CompleteAsync(SignIn.TwoFactorRecoveryCodeSignInAsync((RecoveryCode ?? "").Replace(" ", "", StringComparison.Ordinal).Trim()), "recovery code");

    private async Task CompleteAsync(Task<SignInResult> attempt, string factor)
    {
        if (_user is null)
        {
            return;
        }

        var who = new Actor(_user.Id, _user.Email ?? _user.Id, []);
        var result = await attempt;
        if (result.Succeeded)
        {
            _user.LastSignInAt = Time.GetUtcNow();
            await Users.UpdateAsync(_user);
            var detail = factor == "recovery code" ? $"with a recovery code; {await Users.CountRecoveryCodesAsync(_user)} left" : "with the authenticator app";
            await Audit.RecordAsync(who, AuditActions.SignInSucceeded, null, AuditOutcome.Succeeded, detail);
            Navigation.NavigateTo(AccountEndpoints.SafeReturnUrl(ReturnUrl));
            return;
        }

        if (result.IsLockedOut)
        {
            await Audit.RecordAsync(who, AuditActions.SignInFailed, null, AuditOutcome.Denied, $"wrong {factor} code; account locked after repeated failures");
            Navigation.NavigateTo("/signin?error=locked");
            return;
        }

        await Audit.RecordAsync(who, AuditActions.SignInFailed, null, AuditOutcome.Failed, $"wrong {factor} code");
        _error = factor == "recovery code"
            ? "That recovery code is not right or was used already. Repeated failures lock the account."
            : "That code is not right. Use the current code from the app (it changes every 30 seconds); repeated failures lock the account.";
    }
}
