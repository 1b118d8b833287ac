using HelloJohn.Console.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Deployments;

public static class DeploymentsServiceCollectionExtensions
{
    /// <summary>Deployments: the databases each protects (scanned at every set and at start) and their administration.</summary>
    public static IServiceCollection AddDeployments(this IServiceCollection services)
    {
        services.AddSingleton<ConsoleDatabaseGuard>();
        services.AddSingleton<DeploymentScanner>();
        services.AddScoped<DeploymentService>();
        services.AddTransient<DeploymentScanJob>();
        services.AddSingleton<IConsoleStartupTask, DeploymentScanStartupTask>();
        return services;
    }
}
