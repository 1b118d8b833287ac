using System.Security.Claims;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;

namespace HelloJohn.Console.Web.Security;

/// <summary>The signed-in person, as the Core services want them: an <see cref="Actor"/> with the roles and security
/// stamp their sign-in carried. Core re-reads the account before acting, so these roles only shape what a page offers.</summary>
public sealed class CurrentActor(AuthenticationStateProvider authentication)
{
    private static readonly string StampClaim = new ClaimsIdentityOptions().SecurityStampClaimType;

    public async Task<Actor> GetAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return FromPrincipal(state.User);
    }

    public static Actor FromPrincipal(ClaimsPrincipal user)
    {
        // Without an account id there is nothing Core could re-check, so such a principal acts as nobody.
        if (user.Identity?.IsAuthenticated != true || user.FindFirstValue(ClaimTypes.NameIdentifier) is not { Length: > 0 } id)
        {
            return new Actor(null, "anonymous", []);
        }

        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToArray();
        return new Actor(id, user.Identity.Name ?? "unknown", roles) { SecurityStamp = user.FindFirstValue(StampClaim) };
    }
}
