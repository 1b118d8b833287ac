using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Restores;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Pitr;

public static class PitrServiceCollectionExtensions
{
    /// <summary>Registers point-in-time recovery: options (validated at start), the WAL receivers' host, base backups,
    /// readiness, the window and restores, with their jobs. Needs targets, the backup stores, the audit log and Hangfire.</summary>
    public static IServiceCollection AddPitr(this IServiceCollection services, string dataDirectory)
    {
        services.AddOptions<PitrOptions>()
            .BindConfiguration(PitrOptions.Section)
            .Configure<IConfiguration>((o, c) =>
            {
                if (string.IsNullOrWhiteSpace(o.ReplicationUrl) && !string.IsNullOrWhiteSpace(c["HELLOJOHN_REPLICATION_URL"]))
                {
                    o.ReplicationUrl = c["HELLOJOHN_REPLICATION_URL"];
                }
            })
            .PostConfigure(o => o.WorkDirectory = string.IsNullOrWhiteSpace(o.WorkDirectory) ? Path.Combine(dataDirectory, "pitr") : Path.GetFullPath(o.WorkDirectory))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PitrOptions>, PitrOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConsoleLocks>();
        services.TryAddSingleton<PitrNotifier>();
        services.TryAddSingleton<PitrWorkspace>();
        services.TryAddSingleton<PitrConnections>();
        services.TryAddSingleton<PitrArchiveStores>();
        services.TryAddSingleton<PitrStateStore>();
        services.TryAddSingleton<PitrCatalog>();
        services.TryAddSingleton<PitrRestorePlanner>();
        services.TryAddSingleton<BaseBackupRetention>();
        services.TryAddSingleton<BaseBackupEngine>();
        services.TryAddSingleton<PointInTimeRestoreEngine>();
        services.TryAddSingleton<PitrRestoreExecution>();
        services.TryAddSingleton<IBaseBackupRequester, BaseBackupRequester>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunKind, BaseBackupRunKind>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunKind, PitrRestoreRunKind>());
        services.TryAddSingleton<PitrService>();
        services.TryAddSingleton<RestoredServerInspector>();
        services.TryAddSingleton<RestoredServers>();
        services.TryAddTransient<BaseBackupJob>();
        services.TryAddTransient<PitrRestoreJob>();
        services.TryAddTransient<ScheduledBaseBackupsJob>();
        services.AddSingleton<IConsoleStartupTask, PitrStartupTask>();
        services.TryAddSingleton<PitrAlerts>();
        services.TryAddSingleton<WalReceiverHost>();
        services.AddHostedService(sp => sp.GetRequiredService<WalReceiverHost>());
        return services;
    }
}
