using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Security;

public static class SecurityServiceCollectionExtensions
{
    /// <summary>Local accounts (ASP.NET Core Identity on the console database), roles, password and lockout policy.</summary>
    public static IServiceCollection AddConsoleSecurity(this IServiceCollection services, bool embedded)
    {
        services.AddIdentity<ConsoleUser, IdentityRole>(o =>
            {
                o.Password.RequiredLength = 12;
                o.Password.RequireDigit = true;
                o.Password.RequireLowercase = true;
                o.Password.RequireUppercase = true;
                o.Password.RequireNonAlphanumeric = true;
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.User.RequireUniqueEmail = true;
                o.SignIn.RequireConfirmedAccount = false;
            })
            .AddEntityFrameworkStores<ConsoleDbContext>()
            .AddDefaultTokenProviders();
        services.AddOptions<AdminBootstrapOptions>().Configure<IConfiguration>((o, c) =>
        {
            o.Email = c["HELLOJOHN_CONSOLE_ADMIN_EMAIL"];
            o.Password = c["HELLOJOHN_CONSOLE_ADMIN_PASSWORD"];
            o.GenerateWhenMissing = embedded;
        });
        services.AddSingleton<IConsoleStartupTask, AdminBootstrapper>();
        return services;
    }
}
