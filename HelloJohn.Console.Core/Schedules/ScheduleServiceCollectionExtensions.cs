using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Schedules;

public static class ScheduleServiceCollectionExtensions
{
    /// <summary>Registers schedule options (validated at start) and <see cref="ScheduleService"/>. Hangfire itself
    /// (<c>IRecurringJobManager</c>, <c>IBackgroundJobClient</c>) is registered with the Hangfire storage.</summary>
    public static IServiceCollection AddSchedules(this IServiceCollection services)
    {
        services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScheduleOptions>, ScheduleOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<ScheduleService>();
        return services;
    }
}
