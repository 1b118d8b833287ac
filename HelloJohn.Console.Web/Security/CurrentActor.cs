using System.Security.Claims;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components.Authorization;

namespace HelloJohn.Console.Web.Security;

/// <summary>The signed-in person, as the Core services want them: an <see cref="Actor"/> with their roles.</summary>
public sealed class CurrentActor(AuthenticationStateProvider authentication)
{
    public async Task<Actor> GetAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return FromPrincipal(state.User);
    }

    public static Actor FromPrincipal(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return new Actor(null, "anonymous", []);
        }

        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToArray();
        return new Actor(user.FindFirstValue(ClaimTypes.NameIdentifier), user.Identity.Name ?? "unknown", roles);
    }
}
