using HelloJohn.Console.Core.Recovery.Steps;
using HelloJohn.Console.Core.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Recovery;

public static class RecoveryServiceCollectionExtensions
{
    /// <summary>Registers the recovery wizards: options (validated at start), the run store, the step runner and each
    /// step's handler, RPO/RTO measurement, the drill runner, their job and their kind of run. Needs runs, targets, the
    /// audit log, Data Protection, Hangfire, restores (the restore engine) and the secrets services.</summary>
    public static IServiceCollection AddRecovery(this IServiceCollection services)
    {
        services.AddOptions<RecoveryOptions>().BindConfiguration(RecoveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RecoveryOptions>, RecoveryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(HealthProbe.HttpClientName);
        services.TryAddSingleton<RecoveryConnectionVault>();
        services.TryAddSingleton<RecoveryRunStore>();
        services.TryAddSingleton<RecoveryMeasure>();
        services.TryAddSingleton<RecoveryBackups>();
        services.TryAddSingleton<RecoveryStepRunner>();
        services.TryAddSingleton<RecoveryDrillRunner>();
        services.TryAddSingleton<RecoveryQueries>();
        services.TryAddSingleton<RecoveryParts>();
        services.TryAddSingleton<RecoveryRestorer>();
        services.TryAddSingleton<DrillScratch>();
        services.TryAddSingleton<RecoveryService>();
        services.TryAddTransient<RecoveryJob>();
        services.AddSingleton<IRunKind, RecoveryRunKind>();

        // Step handlers: one per execution, in its own scope (some use scoped services, such as the key escrow).
        services.TryAddScoped<NewServerStep>();
        services.TryAddScoped<ChooseBackupStep>();
        services.TryAddScoped<RestoreStep>();
        services.TryAddScoped<VerifyCountsStep>();
        services.TryAddScoped<HealthProbe>();
        services.TryAddScoped<GenerateKeyStep>();
        services.TryAddScoped<JwksStep>();
        services.TryAddScoped<ChooseTimeStep>();
        services.TryAddScoped<RecoveredDatabaseStep>();
        services.TryAddScoped<ScratchDatabaseStep>();
        services.TryAddScoped<DropScratchStep>();
        return services;
    }
}
