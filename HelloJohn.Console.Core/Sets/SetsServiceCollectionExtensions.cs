using Hangfire;
using HelloJohn.Console.Core.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Sets;

public static class SetsServiceCollectionExtensions
{
    /// <summary>Backup sets: their run kind, the runner that starts them, the finisher that ends them, the members'
    /// queue with Sets__Parallelism workers of its own, roles and queries. Needs AddRuns, AddBackups, AddDeployments
    /// and AddNotifications.</summary>
    public static IServiceCollection AddSets(this IServiceCollection services)
    {
        services.AddOptions<SetOptions>().BindConfiguration(SetOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SetOptions>, SetOptionsValidation>());
        services.AddSingleton<ServerRoles>();
        services.AddSingleton<SetMembers>();
        services.AddSingleton<SetNotices>();
        services.AddSingleton<IRunFinishedHandler>(sp => sp.GetRequiredService<SetNotices>());
        services.AddSingleton<SetFinisher>();
        services.AddSingleton<IRunFinishedHandler>(sp => sp.GetRequiredService<SetFinisher>());
        services.AddSingleton<SetRunner>();
        services.AddSingleton<SetQueries>();
        services.AddSingleton<SetService>();
        services.AddSingleton<SetRolesService>();
        services.AddSingleton<DeploymentOverviewService>();
        services.AddSingleton<SetVerificationService>();
        services.AddSingleton<IRunFinishedHandler>(sp => sp.GetRequiredService<SetVerificationService>());
        services.AddSingleton<IRunFinishedHandler, VerifySetAfterBackup>();
        services.AddSingleton<SetRestoreService>();
        services.AddSingleton<SetCatalogRebuild>();
        services.AddSingleton<SetRetention>();
        services.AddSingleton<SetDeletionService>();
        services.AddSingleton<IRunKind, SetRunKind>();
        services.AddTransient<SetJobs>();
        services.AddTransient<Schedules.IScheduledBackupJob, SetScheduledJob>();

        // Workers of their own: at most Sets__Parallelism databases of sets are dumped at once by this instance, and a
        // large set never takes the workers other jobs need. Every instance on the console database adds its own.
        services.AddHangfireServer((sp, o) =>
        {
            o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{SetJobs.Queue}";
            o.Queues = [SetJobs.Queue];
            o.WorkerCount = sp.GetRequiredService<IOptions<SetOptions>>().Value.Parallelism;
            o.CancellationCheckInterval = TimeSpan.FromSeconds(2);
        });
        return services;
    }
}
