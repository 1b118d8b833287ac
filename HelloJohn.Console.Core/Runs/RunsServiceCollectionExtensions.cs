using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Runs;

public static class RunsServiceCollectionExtensions
{
    /// <summary>The run lifecycle every kind of run shares: this instance's proof of life, the lifecycle, cancelling,
    /// the heartbeat, the abandoned-run sweep and the relay of run events between instances. Register it after the
    /// console database's initializer (its hosted services need the migrated database) and before the job server (so
    /// that at shutdown the jobs stop before the instance lets go of its lock).</summary>
    public static IServiceCollection AddRuns(this IServiceCollection services)
    {
        services.AddOptions<RunsOptions>().BindConfiguration(RunsOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RunsOptions>, RunsOptionsValidation>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ConsoleInstance>();
        services.AddHostedService(sp => sp.GetRequiredService<ConsoleInstance>());
        services.AddSingleton<ConsoleLocks>();
        services.AddSingleton<RunProgressNotifier>();
        services.AddSingleton<RunKinds>();
        services.AddSingleton<RunEndRecorder>();
        services.AddSingleton<RunLifecycle>();
        services.AddSingleton<RunCancellation>();
        services.AddSingleton<RunQueries>();
        services.AddSingleton<RunSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<RunSweeper>());
        services.AddHostedService<RunHeartbeat>();
        services.AddHostedService<RunEventRelay>();
        return services;
    }
}
