using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Targets;

public static class TargetsServiceCollectionExtensions
{
    /// <summary>The HelloJohn deployments the console protects: the one of HELLOJOHN_DATABASE_URL (with
    /// HELLOJOHN_DATABASE_PATTERNS, HELLOJOHN_BASE_URL, HELLOJOHN_TARGET_NAME, HELLOJOHN_PROVIDER; validated at start) and those added in Settings.</summary>
    public static IServiceCollection AddTargets(this IServiceCollection services)
    {
        services.AddOptions<TargetOptions>()
            .Configure<IConfiguration>((o, c) =>
            {
                o.DatabaseUrl = c["HELLOJOHN_DATABASE_URL"];
                o.BaseUrl = c["HELLOJOHN_BASE_URL"];
                o.DatabasePatterns = c["HELLOJOHN_DATABASE_PATTERNS"];
                o.NameSet = !string.IsNullOrWhiteSpace(c["HELLOJOHN_TARGET_NAME"]);
                o.Name = o.NameSet ? c["HELLOJOHN_TARGET_NAME"]!.Trim() : o.Name;
                if (Enum.TryParse<TargetProvider>(c["HELLOJOHN_PROVIDER"], ignoreCase: true, out var provider))
                {
                    o.Provider = provider;
                    o.ProviderSet = true;
                }
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TargetOptions>, TargetOptionsValidation>();
        services.AddSingleton<TargetService>();
        services.AddSingleton<Settings.ConsoleSettingsService>();
        return services;
    }
}
