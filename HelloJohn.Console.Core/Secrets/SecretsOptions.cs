using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Secrets;

/// <summary>Where the signing key and the environment configuration are escrowed. Section <c>Secrets</c>; each key can
/// also come from an environment variable such as <c>Secrets__Store</c>.</summary>
public sealed class SecretsOptions
{
    public const string Section = "Secrets";

    public SecretStoreKind Store { get; set; } = SecretStoreKind.Local;

    /// <summary>AWS region of Secrets Manager, e.g. <c>eu-west-1</c>. Required for <see cref="SecretStoreKind.AwsSecretsManager"/>.</summary>
    public string? Region { get; set; }

    /// <summary>Put before every secret name, so the console's secrets group under one path (<c>hellojohn/…</c>).</summary>
    [Required(AllowEmptyStrings = true)]
    [MaxLength(128)]
    public string NamePrefix { get; set; } = "hellojohn/";

    /// <summary>Overrides the regional endpoint (a VPC endpoint, LocalStack, a test server).</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Static credentials. When unset the standard AWS chain is used (environment variables, shared
    /// profile, web identity, container or instance role).</summary>
    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    public string? SessionToken { get; set; }

    [Range(1, 300)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>How long a check of HelloJohn's <c>/.well-known/jwks.json</c> may take.</summary>
    [Range(1, 120)]
    public int JwksTimeoutSeconds { get; set; } = 10;
}

/// <summary>Cross-field rules of <see cref="SecretsOptions"/>; every error names the key and its environment variable.</summary>
internal sealed partial class SecretsOptionsValidator : IValidateOptions<SecretsOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        var errors = new List<string>();
        if (!NamePrefixPattern().IsMatch(options.NamePrefix))
        {
            errors.Add($"{Key(nameof(SecretsOptions.NamePrefix))} may contain only letters, digits and / _ + = . @ - (AWS's rule for secret names); it is '{options.NamePrefix}'.");
        }

        if (options.ServiceUrl is { Length: > 0 } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors.Add($"{Key(nameof(SecretsOptions.ServiceUrl))} must be an absolute http or https URL such as https://secretsmanager.eu-west-1.amazonaws.com; it is '{url}'.");
        }

        var hasKeyId = !string.IsNullOrWhiteSpace(options.AccessKeyId);
        var hasSecret = !string.IsNullOrWhiteSpace(options.SecretAccessKey);
        if (hasKeyId != hasSecret)
        {
            errors.Add($"Set both {Key(nameof(SecretsOptions.AccessKeyId))} and {Key(nameof(SecretsOptions.SecretAccessKey))}, or neither (then the standard AWS credential chain is used).");
        }

        if (!hasKeyId && !string.IsNullOrWhiteSpace(options.SessionToken))
        {
            errors.Add($"{Key(nameof(SecretsOptions.SessionToken))} is set without {Key(nameof(SecretsOptions.AccessKeyId))} and {Key(nameof(SecretsOptions.SecretAccessKey))}: set all three or remove it.");
        }

        if (options.Store == SecretStoreKind.AwsSecretsManager)
        {
            if (string.IsNullOrWhiteSpace(options.Region))
            {
                errors.Add($"{Key(nameof(SecretsOptions.Region))} is required when {Key(nameof(SecretsOptions.Store))} is AwsSecretsManager: set it to the region that holds the secrets, e.g. eu-west-1.");
            }
            else if (!RegionPattern().IsMatch(options.Region))
            {
                errors.Add($"{Key(nameof(SecretsOptions.Region))} '{options.Region}' is not an AWS region name (like us-east-1 or eu-central-2).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string Key(string property) => $"{SecretsOptions.Section}:{property} (environment variable {SecretsOptions.Section}__{property})";

    [GeneratedRegex("^[A-Za-z0-9/_+=.@-]*$")]
    private static partial Regex NamePrefixPattern();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();
}
