using Microsoft.AspNetCore.Components.Authorization;

namespace HelloJohn.Console.Web.Security;

public static class ConsoleWebSecurityExtensions
{
    /// <summary>The web side of sign-in: live circuits re-check their user, pages ask for the acting <c>Actor</c>.</summary>
    public static IServiceCollection AddConsoleWebSecurity(this IServiceCollection services)
    {
        services.AddScoped<AuthenticationStateProvider, ConsoleRevalidatingAuthenticationStateProvider>();
        return services;
    }

    /// <summary>Sign-in and sign-out posts, the audit trail's CSV export and the Backups page's file downloads.</summary>
    public static IEndpointRouteBuilder MapConsoleSecurityEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapAccountEndpoints();
        app.MapAuditEndpoints();
        app.MapBackupFileEndpoints();
        return app;
    }
}
