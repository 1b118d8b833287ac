using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Registers the S3 stores that are configured (none without <c>Storage:S3:Bucket</c>), the tier layout and
    /// the <see cref="IBackupStoreRegistry"/>. The local disk store registers itself as another <see cref="IBackupStore"/>.</summary>
    public static IServiceCollection AddStorageServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<S3StorageOptions>().BindConfiguration(S3StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3StorageOptions>, S3StorageOptionsValidator>());
        services.AddOptions<StorageTierOptions>().BindConfiguration(StorageTierOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageTierOptions>, StorageTierOptionsValidator>());

        // Which stores exist is decided by the configuration at start; their settings are read through the validated
        // options when first used, so a bad value fails start-up with the validator's message.
        var configured = configuration.GetSection(S3StorageOptions.Section).Get<S3StorageOptions>() ?? new S3StorageOptions();
        foreach (var name in configured.Stores().Select(s => s.Name))
        {
            services.AddSingleton<IBackupStore>(sp => new S3BackupStore(
                sp.GetRequiredService<IOptions<S3StorageOptions>>().Value.Stores().Single(s => s.Name == name),
                sp.GetRequiredService<ILogger<S3BackupStore>>()));
        }

        services.TryAddSingleton<IBackupStoreRegistry, BackupStoreRegistry>();
        services.TryAddSingleton<S3UploadLeftovers>();
        services.TryAddSingleton<BackupSpaceCheck>();
        services.TryAddSingleton<StorageSpaceService>();
        services.TryAddSingleton<Hosting.ConsoleDatabaseLocation>();
        services.AddHostedService<S3UploadLeftoversSweeper>();
        return services;
    }
}
