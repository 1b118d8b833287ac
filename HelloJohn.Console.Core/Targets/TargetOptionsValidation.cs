using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Targets;

/// <summary>Checks the deployment settings at start; each error names the variable to fix.</summary>
internal sealed class TargetOptionsValidation : IValidateOptions<TargetOptions>
{
    public ValidateOptionsResult Validate(string? name, TargetOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.DatabaseUrl))
        {
            try
            {
                PgConnection.Parse(options.DatabaseUrl);
            }
            catch (FormatException e)
            {
                errors.Add($"HELLOJOHN_DATABASE_URL is not a usable connection string: {e.Message}");
            }
        }

        var patterns = Deployments.DatabaseSelection.SplitList(options.DatabasePatterns);
        foreach (var problem in new Deployments.DatabaseSelection([], patterns).Problems())
        {
            errors.Add($"HELLOJOHN_DATABASE_PATTERNS: {problem}");
        }

        if (!string.IsNullOrWhiteSpace(options.BaseUrl) &&
            (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors.Add("HELLOJOHN_BASE_URL must be an absolute http:// or https:// URL, such as https://auth.example.com.");
        }

        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Length > 128)
        {
            errors.Add("HELLOJOHN_TARGET_NAME must be 1 to 128 characters.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
