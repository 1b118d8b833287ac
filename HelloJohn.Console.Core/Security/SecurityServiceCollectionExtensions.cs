using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Security;

public static class SecurityServiceCollectionExtensions
{
    /// <summary>Local accounts (ASP.NET Core Identity on the console database), roles, password and lockout policy.</summary>
    public static IServiceCollection AddConsoleSecurity(this IServiceCollection services, bool embedded)
    {
        services.AddIdentity<ConsoleUser, IdentityRole>(o =>
            {
                PasswordPolicy.Apply(o.Password);
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.User.RequireUniqueEmail = true;
                o.SignIn.RequireConfirmedAccount = false;
            })
            .AddEntityFrameworkStores<ConsoleDbContext>()
            .AddSignInManager<ConsoleSignInManager>()
            .AddPasswordValidator<MaximumLengthPasswordValidator>()
            .AddDefaultTokenProviders();
        services.AddConsoleAccountSecurity();
        services.AddOptions<ConsoleSecurityOptions>().BindConfiguration(ConsoleSecurityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Each request's cookie is re-checked against the database this often (default: every request): a disable, role
        // change or password reset changes the user's security stamp, and the next check then signs that session out.
        services.AddOptions<SecurityStampValidatorOptions>().Configure<IOptions<ConsoleSecurityOptions>>((o, console) =>
            o.ValidationInterval = console.Value.SessionRevalidationInterval);
        services.AddOptions<AdminBootstrapOptions>().Configure<IConfiguration>((o, c) =>
        {
            o.Email = c["HELLOJOHN_CONSOLE_ADMIN_EMAIL"];
            o.Password = c["HELLOJOHN_CONSOLE_ADMIN_PASSWORD"];
            o.GenerateWhenMissing = embedded;
        });
        services.AddSingleton<FirstAdminSetup>();
        services.AddSingleton<CallerGate>();
        services.AddSingleton<SessionRevocations>();
        services.AddSingleton<UserAdministrationService>();
        services.AddSingleton<IConsoleStartupTask, AdminBootstrapper>();
        return services;
    }
}
