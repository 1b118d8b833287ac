using HelloJohn.Console.Core.Secrets.Aws;
using HelloJohn.Console.Core.Secrets.Configuration;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Secrets.Local;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Secrets;

public static class SecretsServiceCollectionExtensions
{
    /// <summary>Registers the secret store chosen by <c>Secrets:Store</c> (validated at start), the signing key and
    /// configuration escrow, the JWKS check and its job. Needs the console's <c>IDbContextFactory</c>, the audit log
    /// and Data Protection (registered here with its defaults if the host did not configure it).</summary>
    public static IServiceCollection AddSecretsServices(this IServiceCollection services)
    {
        services.AddOptions<SecretsOptions>()
            .BindConfiguration(SecretsOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SecretsOptions>, SecretsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddDataProtection();

        services.TryAddSingleton<IAwsCredentialSource, AwsCredentialSource>();
        services.AddHttpClient<SecretsManagerClient>((sp, http) =>
            http.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<SecretsOptions>>().Value.RequestTimeoutSeconds));
        services.AddHttpClient(JwksCheckService.HttpClientName, (sp, http) =>
            http.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<SecretsOptions>>().Value.JwksTimeoutSeconds));

        services.TryAddSingleton<LocalSecretStore>();
        services.TryAddTransient<AwsSecretsManagerStore>();
        services.TryAddTransient<ISecretStore>(sp => sp.GetRequiredService<IOptions<SecretsOptions>>().Value.Store switch
        {
            SecretStoreKind.AwsSecretsManager => sp.GetRequiredService<AwsSecretsManagerStore>(),
            _ => sp.GetRequiredService<LocalSecretStore>(),
        });

        services.TryAddScoped<SigningKeyService>();
        services.TryAddScoped<ConfigurationEscrowService>();
        services.TryAddScoped<JwksCheckService>();
        services.TryAddScoped<JwksCheckJob>();
        return services;
    }
}
