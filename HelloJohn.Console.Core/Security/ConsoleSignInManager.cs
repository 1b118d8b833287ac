using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Security;

/// <summary>Identity's sign-in manager, taught that a disabled console user may neither sign in nor keep a session.</summary>
public sealed class ConsoleSignInManager(
    UserManager<ConsoleUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<ConsoleUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<ConsoleUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<ConsoleUser> confirmation)
    : SignInManager<ConsoleUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<bool> CanSignInAsync(ConsoleUser user) => !user.IsDisabled && await base.CanSignInAsync(user);

    // The cookie's periodic check lands here. Disabling also changes the stamp; checking the flag as well keeps a
    // session from outliving a disable that bypassed the stamp (a direct database edit, an older console instance).
    public override async Task<bool> ValidateSecurityStampAsync(ConsoleUser? user, string? securityStamp) =>
        user is { IsDisabled: false } && await base.ValidateSecurityStampAsync(user, securityStamp);
}
