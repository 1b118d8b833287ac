using System.Text.Json;
using Hangfire;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Api;
using HelloJohn.Console.Web.Metrics;
using HelloJohn.Console.Web.Components;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MudBlazor;
using MudBlazor.Services;

namespace HelloJohn.Console.Web.Extensions;

public static class ConsoleWebExtensions
{
    public static WebApplicationBuilder AddConsoleWeb(this WebApplicationBuilder builder)
    {
        // The framework's and MudBlazor's files (blazor.web.js, MudBlazor.min.css) live in the build's static web assets
        // manifest, which ASP.NET Core reads by itself only in Development. Read it in every environment, so a build
        // started in Production (./run.sh) serves them too; a published folder has them in wwwroot and no manifest.
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        // The paste boxes take up to 64 K characters; SignalR's default 32 KB message would drop such a paste silently.
        services.AddRazorComponents().AddInteractiveServerComponents().AddHubOptions(o => o.MaximumReceiveMessageSize = 512 * 1024);
        services.AddMudServices(o =>
        {
            // Bottom right, away from the page's own buttons (Back up now sits top right), and brief: a toast says
            // that something was asked for; the page shows how it ends.
            o.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            o.SnackbarConfiguration.VisibleStateDuration = 4000;
            // A toast belongs to the page whose action it answers; another page must not show it.
            o.SnackbarConfiguration.ClearAfterNavigation = true;
        });
        services.AddCascadingAuthenticationState();
        services.AddScoped<CurrentActor>();
        services.AddConsoleWebSecurity();
        services.AddAuthorization(o => o.AddConsolePolicies());
        services.AddConsoleApi();
        services.AddConsoleMetricsExport();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/signin";
            o.LogoutPath = "/signout";
            o.AccessDeniedPath = "/denied";
            o.Cookie.Name = "hjc.auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "hjc.af";
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        return builder;
    }

    public static WebApplication UseConsoleWeb(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            // A plain answer, not a page: the failure may be in the component pipeline itself. Details stay in the log.
            app.UseExceptionHandler(error => error.Run(async context =>
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("HelloJohn Console hit an unexpected error; it is in the console's log. Nothing was changed by this request. Go back and try again.");
            }));
        }

        app.UseConsoleMetrics();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseMiddleware<AccountGate>();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            ResponseWriter = WriteHealthJsonAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).AllowAnonymous();

        app.MapHangfireDashboard("/jobs", new DashboardOptions
        {
            AsyncAuthorization = [new HangfireDashboardAuthorization()],
            DashboardTitle = "HelloJohn Console jobs",
            AppPath = "/",
        }).RequireAuthorization(ConsolePolicies.For(ConsolePermission.ViewJobsDashboard));

        app.MapConsoleSecurityEndpoints();
        app.MapConsoleApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Anyone (a load balancer, compose's healthcheck) learns healthy or unhealthy and nothing else: the
    /// details name the database's user, host and port. A signed-in console user gets every check with its description.</summary>
    private static Task WriteHealthJsonAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true };
        var signedIn = context.User.Identity?.IsAuthenticated == true && ConsoleRoles.All.Any(context.User.IsInRole);
        if (!signedIn)
        {
            // Degraded means HelloJohn's database is unreachable while the console itself serves: healthy to a balancer.
            var status = report.Status == HealthStatus.Unhealthy ? "Unhealthy" : "Healthy";
            return context.Response.WriteAsync(JsonSerializer.Serialize(new { status }, options));
        }

        var body = new
        {
            status = report.Status.ToString(),
            durationMs = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, options));
    }
}
