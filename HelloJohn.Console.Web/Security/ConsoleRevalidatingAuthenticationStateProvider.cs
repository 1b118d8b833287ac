using System.Security.Claims;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Web.Security;

/// <summary>An interactive page keeps its circuit open for hours without another HTTP request, so the cookie's own
/// security-stamp check never runs. This re-checks the signed-in user on the circuit: once they are disabled, deleted,
/// given another role or a new password, the page falls back to anonymous and sends them to sign in again. A change
/// made on this console instance ends the circuit at once; one made on another instance at the next periodic check.
/// Core's <see cref="CallerGate"/> refuses their actions in the meantime.</summary>
internal sealed class ConsoleRevalidatingAuthenticationStateProvider : RevalidatingServerAuthenticationStateProvider
{
    private static readonly AuthenticationState SignedOut = new(new ClaimsPrincipal(new ClaimsIdentity()));

    private readonly IServiceScopeFactory _scopes;
    private readonly IOptions<ConsoleSecurityOptions> _security;
    private readonly IOptions<IdentityOptions> _identity;
    private readonly SessionRevocations _revocations;

    public ConsoleRevalidatingAuthenticationStateProvider(
        ILoggerFactory loggerFactory,
        IServiceScopeFactory scopes,
        IOptions<ConsoleSecurityOptions> security,
        IOptions<IdentityOptions> identity,
        SessionRevocations revocations)
        : base(loggerFactory)
    {
        _scopes = scopes;
        _security = security;
        _identity = identity;
        _revocations = revocations;
        _revocations.Revoked += OnRevoked;
    }

    // Floored so that a zero interval (the cookie's default: every request) does not turn into a busy loop per circuit.
    protected override TimeSpan RevalidationInterval =>
        _security.Value.SessionRevalidationInterval < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : _security.Value.SessionRevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        return await IsStillValidAsync(users, _identity.Value, authenticationState.User);
    }

    internal static async Task<bool> IsStillValidAsync(UserManager<ConsoleUser> users, IdentityOptions options, ClaimsPrincipal principal)
    {
        var user = await users.GetUserAsync(principal);
        if (user is null || user.IsDisabled)
        {
            return false;
        }

        if (!users.SupportsUserSecurityStamp)
        {
            return true;
        }

        var stamp = principal.FindFirstValue(options.ClaimsIdentity.SecurityStampClaimType);
        return stamp == await users.GetSecurityStampAsync(user);
    }

    private void OnRevoked(string userId) => _ = EndIfSignedInAsAsync(userId);

    private async Task EndIfSignedInAsAsync(string userId)
    {
        try
        {
            var state = await GetAuthenticationStateAsync();
            if (state.User.FindFirstValue(ClaimTypes.NameIdentifier) == userId)
            {
                SetAuthenticationState(Task.FromResult(SignedOut));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // The circuit is already closing (no authentication state any more): nothing left to end.
        }
    }

    protected override void Dispose(bool disposing)
    {
        _revocations.Revoked -= OnRevoked;
        base.Dispose(disposing);
    }
}
