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
/// given another role or a new password, the page falls back to anonymous and sends them to sign in again.</summary>
internal sealed class ConsoleRevalidatingAuthenticationStateProvider(
    ILoggerFactory loggerFactory,
    IServiceScopeFactory scopes,
    IOptions<ConsoleSecurityOptions> security,
    IOptions<IdentityOptions> identity)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    // Floored so that a zero interval (allowed for the cookie check in tests) does not turn into a busy loop per circuit.
    protected override TimeSpan RevalidationInterval =>
        security.Value.SessionRevalidationInterval < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : security.Value.SessionRevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        return await IsStillValidAsync(users, identity.Value, authenticationState.User);
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
}
