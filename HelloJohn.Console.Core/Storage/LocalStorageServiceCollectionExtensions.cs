using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Storage;

public static class LocalStorageServiceCollectionExtensions
{
    /// <summary>The local disk store (folder <c>Storage__Local__Directory</c>, by default <c>{data folder}/backups</c>),
    /// unless <c>Storage__Local__Enabled=false</c>; its settings are validated at start.</summary>
    public static IServiceCollection AddLocalStorage(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        services.AddOptions<LocalStorageOptions>().BindConfiguration(LocalStorageOptions.Section)
            .PostConfigure(o => o.Directory = string.IsNullOrWhiteSpace(o.Directory) ? Path.Combine(dataDirectory, "backups") : o.Directory)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LocalStorageOptions>, LocalStorageOptionsValidation>();
        var configured = configuration.GetSection(LocalStorageOptions.Section).Get<LocalStorageOptions>() ?? new LocalStorageOptions();
        if (configured.Enabled)
        {
            services.AddSingleton<IBackupStore>(sp =>
            {
                var o = sp.GetRequiredService<IOptions<LocalStorageOptions>>().Value;
                return new LocalDiskBackupStore("local", Path.GetFullPath(o.Directory));
            });
        }

        return services;
    }
}

/// <summary>Checks the local store's settings at start; each error names the variable to fix.</summary>
internal sealed class LocalStorageOptionsValidation(IConfiguration configuration) : IValidateOptions<LocalStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, LocalStorageOptions options)
    {
        if (!options.Enabled)
        {
            return string.IsNullOrWhiteSpace(configuration[$"{S3StorageOptions.Section}:Bucket"])
                ? ValidateOptionsResult.Fail("Storage__Local__Enabled is false and no S3 bucket is configured (Storage__S3__Bucket): backups would have nowhere to go. Configure S3, or keep the local store.")
                : ValidateOptionsResult.Success;
        }

        string full;
        try
        {
            full = Path.GetFullPath(options.Directory);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return ValidateOptionsResult.Fail($"Storage__Local__Directory is not a usable folder path ('{options.Directory}'): {e.Message}");
        }

        return File.Exists(full)
            ? ValidateOptionsResult.Fail($"Storage__Local__Directory names a file, not a folder: {full}. Give the folder backups are kept in.")
            : ValidateOptionsResult.Success;
    }
}
