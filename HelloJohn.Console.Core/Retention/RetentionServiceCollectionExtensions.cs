using HelloJohn.Console.Core.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Retention;

public static class RetentionServiceCollectionExtensions
{
    /// <summary>Registers the retention policy options, <see cref="RetentionService"/> and its job. Needs
    /// <c>AddStorageServices</c> and <c>AddSchedules</c> (for the calendar zone).</summary>
    public static IServiceCollection AddRetention(this IServiceCollection services)
    {
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<RetentionService>();
        services.TryAddTransient<RetentionJob>();
        services.AddSingleton<IRunFinishedHandler, RetentionAfterBackup>();
        return services;
    }
}
