using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>How the recovery wizards wait and restore. Section <c>Recovery</c> (environment: <c>Recovery__Key</c>).</summary>
public sealed class RecoveryOptions
{
    public const string Section = "Recovery";

    /// <summary>Recovery__PollInterval: how often the health and JWKS checks ask HelloJohn again.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Recovery__WaitTimeout: how long those checks keep asking before the step fails (it can be run again).</summary>
    public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Recovery__RestoreJobs: pg_restore's parallel jobs when restoring into a new server.</summary>
    [Range(1, 16, ErrorMessage = "Recovery__RestoreJobs must be between 1 and 16.")]
    public int RestoreJobs { get; set; } = 2;

    /// <summary>Recovery__HttpTimeout: one request to HelloJohn's /health.</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class RecoveryOptionsValidator : IValidateOptions<RecoveryOptions>
{
    public ValidateOptionsResult Validate(string? name, RecoveryOptions options)
    {
        var errors = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromMinutes(5))
        {
            errors.Add("Recovery__PollInterval must be more than 0 and at most 00:05:00.");
        }

        if (options.WaitTimeout < options.PollInterval)
        {
            errors.Add("Recovery__WaitTimeout must be at least Recovery__PollInterval.");
        }

        if (options.HttpTimeout <= TimeSpan.Zero || options.HttpTimeout > TimeSpan.FromMinutes(2))
        {
            errors.Add("Recovery__HttpTimeout must be more than 0 and at most 00:02:00.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
