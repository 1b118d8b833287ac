using System.Security.Claims;
using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Security;

/// <summary>Claims the console adds to a session besides Identity's: whether the person must choose their own password
/// first, and whether they sign in with a second factor. The session is re-issued when either changes.</summary>
public static class ConsoleClaims
{
    public const string MustChangePassword = "hjc:must_change_password";
    public const string TwoFactor = "hjc:two_factor";
}

public sealed class ConsoleClaimsPrincipalFactory(UserManager<ConsoleUser> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<ConsoleUser, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(ConsoleUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (user.MustChangePassword)
        {
            identity.AddClaim(new Claim(ConsoleClaims.MustChangePassword, "true"));
        }

        if (user.TwoFactorEnabled)
        {
            identity.AddClaim(new Claim(ConsoleClaims.TwoFactor, "true"));
        }

        return identity;
    }
}
