using HelloJohn.Console.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Recovery;

public static class RecoveryServiceCollectionExtensions
{
    /// <summary>Registers the recovery wizards: options (validated at start), the engine, its job, and the start-up
    /// task that marks steps interrupted by a stopped console. Needs targets, the audit log, Data Protection, Hangfire,
    /// the backup stores and the secrets services.</summary>
    public static IServiceCollection AddRecovery(this IServiceCollection services)
    {
        services.AddOptions<RecoveryOptions>().BindConfiguration(RecoveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RecoveryOptions>, RecoveryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(HealthProbe.HttpClientName);
        services.TryAddSingleton<RecoveryConnectionVault>();
        services.TryAddSingleton<RecoveryProgressNotifier>();
        services.TryAddSingleton<HealthProbe>();
        services.TryAddSingleton<RecoveryRestorer>();
        services.TryAddSingleton<RecoveryService>();
        services.TryAddTransient<RecoveryJob>();
        services.AddSingleton<IConsoleStartupTask, RecoveryStartupTask>();
        return services;
    }
}

/// <summary>Marks steps whose console process died as failed before any job runs.</summary>
internal sealed class RecoveryStartupTask(RecoveryService recovery) : IConsoleStartupTask
{
    public Task RunAsync(CancellationToken ct) => recovery.FailInterruptedStepsAsync(ct);
}
