using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HelloJohn.Console.Core.Storage;

public static class CatalogServiceCollectionExtensions
{
    /// <summary>Registers <see cref="CatalogRebuildService"/>, and the <see cref="BackupReconciler"/> the run sweep calls for a
    /// backup it fails. Needs <c>AddStorageServices</c> and <c>AddSchedules</c>.</summary>
    public static IServiceCollection AddCatalogRebuild(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BackupCopyVerifier>();
        services.TryAddSingleton<BackupReconciler>();
        services.TryAddScoped<CatalogRebuildService>();
        return services;
    }
}
