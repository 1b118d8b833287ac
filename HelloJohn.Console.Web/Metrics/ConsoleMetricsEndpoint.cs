using System.Security.Cryptography;
using System.Text;
using HelloJohn.Console.Core.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace HelloJohn.Console.Web.Metrics;

/// <summary>/metrics settings (section <c>Metrics</c>). The endpoint is off until a scrape token is set: the figures name
/// targets and say when backups fail (worth knowing to an attacker), and each scrape queries the console database, so
/// neither is handed to whoever can reach the port.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Metrics__ScrapeToken: Prometheus sends it as <c>Authorization: Bearer …</c> (its <c>authorization</c>
    /// setting with <c>credentials_file</c>). At least 24 characters; without it /metrics is not served.</summary>
    [System.ComponentModel.DataAnnotations.MinLength(24, ErrorMessage = "Metrics__ScrapeToken must be at least 24 characters (e.g. openssl rand -hex 24), or unset to keep /metrics off.")]
    public string? ScrapeToken { get; set; }
}

public static class ConsoleMetricsEndpoint
{
    public const string Path = "/metrics";

    public static IServiceCollection AddConsoleMetricsExport(this IServiceCollection services)
    {
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(ConsoleMetrics.MeterName)
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>Serves /metrics in Prometheus text format when Metrics__ScrapeToken is set, to requests that carry it.</summary>
    public static WebApplication UseConsoleMetrics(this WebApplication app)
    {
        var token = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.ScrapeToken;
        if (string.IsNullOrEmpty(token))
        {
            return app;
        }

        // Instruments exist once their owner does.
        app.Services.GetRequiredService<ConsoleMetrics>();
        var expected = Encoding.UTF8.GetBytes("Bearer " + token);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: context => context.Request.Path == Path,
            path: null,
            configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                var presented = Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString());
                if (!CryptographicOperations.FixedTimeEquals(presented, expected))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer realm=\"HelloJohn Console metrics\"";
                    await context.Response.WriteAsync("The scrape token is missing or wrong: send Metrics__ScrapeToken as 'Authorization: Bearer …'.");
                    return;
                }

                await next(context);
            }),
            optionsName: null);
        return app;
    }
}
