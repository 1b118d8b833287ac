using System.ComponentModel.DataAnnotations;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Verification;

public sealed class VerificationOptions
{
    public const string Section = "Verification";

    /// <summary>Verification__ScratchServer: a PostgreSQL server (postgres:// URL or keyword form, naming a maintenance
    /// database such as postgres) to restore into instead of the target's own server. Its role needs CREATEDB.</summary>
    public string? ScratchServer { get; set; }

    /// <summary>Verification__VerifyAfterEveryBackup: queue a verification as soon as each backup succeeds.</summary>
    public bool VerifyAfterEveryBackup { get; set; }

    /// <summary>Verification__Jobs: parallel pg_restore workers (<c>-j</c>). Defaults to the number of processor cores.</summary>
    [Range(1, 64, ErrorMessage = "Verification__Jobs must be from 1 to 64 (pg_restore -j).")]
    public int? Jobs { get; set; }

    /// <summary>Verification__LeftoverGracePeriod: a hellojohn_verify_* database that this console's catalog does not
    /// know (another console or a script made it) is dropped only once its name's time is older than this.</summary>
    public TimeSpan LeftoverGracePeriod { get; set; } = TimeSpan.FromHours(24);

    public int EffectiveJobs => Jobs ?? Math.Max(1, Environment.ProcessorCount);
}

/// <summary>Checks the verification settings at start; each error names the key to fix.</summary>
internal sealed class VerificationOptionsValidation : IValidateOptions<VerificationOptions>
{
    public ValidateOptionsResult Validate(string? name, VerificationOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ScratchServer))
        {
            return ValidateOptionsResult.Success;
        }

        try
        {
            PgConnection.Parse(options.ScratchServer);
            return ValidateOptionsResult.Success;
        }
        catch (FormatException e)
        {
            return ValidateOptionsResult.Fail($"Verification__ScratchServer is not a usable connection string: {e.Message} Give postgres://user:password@host:5432/postgres, or unset it to verify on the target's own server.");
        }
    }
}
