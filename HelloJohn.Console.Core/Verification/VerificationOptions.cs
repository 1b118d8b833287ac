using System.ComponentModel.DataAnnotations;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Verification.Scratch;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Where a verification restores its throw-away database.</summary>
public enum VerificationServerChoice
{
    /// <summary>The console's own scratch cluster on this machine: production only ever serves the dump.</summary>
    PrivateCluster,
    /// <summary>The target's own PostgreSQL server (HelloJohn's documented script does this).</summary>
    TargetServer,
    /// <summary>The server in <c>Verification__ScratchServer</c>.</summary>
    ScratchServer,
}

public sealed class VerificationOptions
{
    public const string Section = "Verification";

    /// <summary>Verification__RestoreInto: PrivateCluster (default), TargetServer, or ScratchServer (the default when
    /// Verification__ScratchServer is set).</summary>
    public VerificationServerChoice? RestoreInto { get; set; }

    /// <summary>Verification__ScratchServer: a PostgreSQL server (postgres:// URL or keyword form, naming a maintenance
    /// database such as postgres) to restore into instead of the target's own server. Its role needs CREATEDB.</summary>
    public string? ScratchServer { get; set; }

    /// <summary>Verification__FallBackToServer: when the private cluster cannot run on this machine (no server programs of
    /// the target's major version or newer), verify on Verification__ScratchServer, or else the target's server, instead
    /// of failing. Off by default: a verification never lands on production unless someone chose so.</summary>
    public bool FallBackToServer { get; set; }

    /// <summary>Verification__ServerPrograms: where PostgreSQL's server versions are installed, one folder per major
    /// version holding bin/initdb, bin/pg_ctl and bin/postgres (Debian and Ubuntu: /usr/lib/postgresql).</summary>
    public string ServerPrograms { get; set; } = ServerInstallations.DefaultRoot;

    /// <summary>Verification__ScratchIdleTimeout: the private cluster stops after this long without a verification
    /// (and in any case when the console stops).</summary>
    public TimeSpan ScratchIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Verification__VerifyAfterEveryBackup: queue a verification as soon as each backup succeeds.</summary>
    public bool VerifyAfterEveryBackup { get; set; }

    /// <summary>Verification__Jobs: parallel pg_restore workers (<c>-j</c>). Defaults to the number of processor cores.</summary>
    [Range(1, 64, ErrorMessage = "Verification__Jobs must be from 1 to 64 (pg_restore -j).")]
    public int? Jobs { get; set; }

    /// <summary>Verification__LeftoverGracePeriod: a hellojohn_verify_* database that this console's catalog does not
    /// know (another console or a script made it) is dropped only once its name's time is older than this.</summary>
    public TimeSpan LeftoverGracePeriod { get; set; } = TimeSpan.FromHours(24);

    public int EffectiveJobs => Jobs ?? Math.Max(1, Environment.ProcessorCount);

    public VerificationServerChoice EffectiveRestoreInto =>
        RestoreInto ?? (string.IsNullOrWhiteSpace(ScratchServer) ? VerificationServerChoice.PrivateCluster : VerificationServerChoice.ScratchServer);
}

/// <summary>Checks the verification settings at start; each error names the key to fix.</summary>
internal sealed class VerificationOptionsValidation : IValidateOptions<VerificationOptions>
{
    public ValidateOptionsResult Validate(string? name, VerificationOptions options)
    {
        if (options.ScratchIdleTimeout <= TimeSpan.Zero)
        {
            return ValidateOptionsResult.Fail("Verification__ScratchIdleTimeout must be longer than zero, e.g. 00:10:00.");
        }

        if (string.IsNullOrWhiteSpace(options.ScratchServer))
        {
            return options.RestoreInto == VerificationServerChoice.ScratchServer
                ? ValidateOptionsResult.Fail("Verification__RestoreInto=ScratchServer needs Verification__ScratchServer (postgres://user:password@host:5432/postgres).")
                : ValidateOptionsResult.Success;
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
