using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Security;

public static class AccountSecurityServiceCollectionExtensions
{
    /// <summary>First sign-in password changes, invite links and two-factor sign-in. Call after AddIdentity: the store and
    /// claims factory registered here replace Identity's.</summary>
    public static IServiceCollection AddConsoleAccountSecurity(this IServiceCollection services)
    {
        services.AddScoped<IUserStore<ConsoleUser>, ConsoleUserStore>();
        services.AddScoped<IUserClaimsPrincipalFactory<ConsoleUser>, ConsoleClaimsPrincipalFactory>();
        services.AddScoped<TwoFactorEnrollment>();
        services.AddSingleton<TwoFactorAdministration>();
        services.AddSingleton<AccountInviteService>();
        return services;
    }
}
