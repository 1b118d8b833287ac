using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HelloJohn.Console.Core.Storage;

public static class CatalogServiceCollectionExtensions
{
    /// <summary>Registers <see cref="CatalogRebuildService"/>. Needs <c>AddStorageServices</c> and <c>AddSchedules</c>.</summary>
    public static IServiceCollection AddCatalogRebuild(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<CatalogRebuildService>();
        return services;
    }
}
