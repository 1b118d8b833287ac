using HelloJohn.Console.Core.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Restores;

public static class RestoresServiceCollectionExtensions
{
    /// <summary>Restores into a new database or in place, and the restore engine and archive checks that verification
    /// and the recovery wizards share. Needs <c>AddRuns</c> and <c>AddBackups</c>.</summary>
    public static IServiceCollection AddRestores(this IServiceCollection services)
    {
        services.AddOptions<RestoreOptions>().BindConfiguration(RestoreOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<BackupArchiveChecker>();
        services.AddSingleton<RestoreEngine>();
        services.AddSingleton<RestoreServers>();
        services.AddSingleton<RestoreRequests>();
        services.AddSingleton<RestoreRunner>();
        services.AddSingleton<RestoreRunQueries>();
        services.AddSingleton<RestoreService>();
        services.AddSingleton<IRunKind, RestoreRunKind>();
        services.AddTransient<RestoreJob>();
        return services;
    }
}
