using System.Text.Json;
using Hangfire;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Api;
using HelloJohn.Console.Web.Metrics;
using HelloJohn.Console.Web.Components;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MudBlazor.Services;

namespace HelloJohn.Console.Web.Extensions;

public static class ConsoleWebExtensions
{
    public static WebApplicationBuilder AddConsoleWeb(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
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

    private static Task WriteHealthJsonAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
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
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    }
}
