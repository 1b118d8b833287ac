using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Restores;

public static class RestoresServiceCollectionExtensions
{
    /// <summary>Restores into a new database or in place, and the archive checks and locks that verification shares.</summary>
    public static IServiceCollection AddRestores(this IServiceCollection services)
    {
        services.AddOptions<RestoreOptions>().BindConfiguration(RestoreOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<BackupArchiveChecker>();
        services.AddSingleton<RestoreProgressNotifier>();
        services.AddSingleton<RestoreService>();
        services.AddTransient<RestoreJob>();
        return services;
    }
}
