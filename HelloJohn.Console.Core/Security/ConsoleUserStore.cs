using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Security;

/// <summary>Identity's store, keeping the tokens it writes for a user (the authenticator's shared key and the unused
/// recovery codes) encrypted with the console's Data Protection keys: read from the database alone, they cannot be used
/// to produce sign-in codes.</summary>
public sealed class ConsoleUserStore(ConsoleDbContext db, IDataProtectionProvider protection, IdentityErrorDescriber? describer = null)
    : UserStore<ConsoleUser, IdentityRole, ConsoleDbContext>(db, describer)
{
    private readonly IDataProtector _protector = protection.CreateProtector("HelloJohn.Console.Identity.UserTokens");

    public override Task SetTokenAsync(ConsoleUser user, string loginProvider, string name, string? value, CancellationToken cancellationToken) =>
        base.SetTokenAsync(user, loginProvider, name, value is null ? null : _protector.Protect(value), cancellationToken);

    public override async Task<string?> GetTokenAsync(ConsoleUser user, string loginProvider, string name, CancellationToken cancellationToken)
    {
        var stored = await base.GetTokenAsync(user, loginProvider, name, cancellationToken);
        return stored is null ? null : _protector.Unprotect(stored);
    }
}
