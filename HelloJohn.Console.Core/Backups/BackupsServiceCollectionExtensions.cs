using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Backups;

public static class BackupsServiceCollectionExtensions
{
    /// <summary>Backups: options (validated at start), the catalog, the pipeline, the runner, their job and their kind
    /// of run. Needs <c>AddRuns</c>, <c>AddTargets</c> and the stores.</summary>
    public static IServiceCollection AddBackups(this IServiceCollection services)
    {
        services.AddOptions<BackupOptions>().BindConfiguration(BackupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BackupOptions>, BackupOptionsValidation>());
        services.AddSingleton<BackupPipeline>();
        services.AddSingleton<BackupRunner>();
        services.AddSingleton<BackupUploadRetry>();
        services.AddSingleton<BackupCatalogQueries>();
        services.AddSingleton<BackupService>();
        services.AddSingleton<BackupDownloadService>();
        services.AddSingleton<BackupDeletionService>();
        services.AddSingleton<IRunKind, BackupRunKind>();
        services.AddTransient<BackupJob>();
        return services;
    }
}
