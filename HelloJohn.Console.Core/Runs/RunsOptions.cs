using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Runs;

/// <summary>How quickly a run whose console instance died is found and ended. Section <c>Runs</c>.</summary>
public sealed class RunsOptions
{
    public const string Section = "Runs";

    /// <summary>Runs__SweepInterval: how often every instance looks for runs whose instance is gone.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Runs__HeartbeatInterval: how often an instance records that its runs are alive, keeps their progress,
    /// and notices a cancellation asked for on another instance.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Runs__KeepAliveIdle, Runs__KeepAliveInterval, Runs__KeepAliveCount: TCP keepalives on the session that
    /// proves this instance alive, so the console database ends it (and frees its runs) within
    /// idle + interval × count after its host vanished without closing the connection.</summary>
    public TimeSpan KeepAliveIdle { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(5);

    public int KeepAliveCount { get; set; } = 3;

    /// <summary>How long after its host vanished a dead instance's runs are at most ended: the database notices the
    /// dead session, then the next sweep ends the runs.</summary>
    public TimeSpan EndedWithin => KeepAliveIdle + (KeepAliveInterval * KeepAliveCount) + SweepInterval;
}

/// <summary>Checks the Runs settings at start; each error names the variable to fix.</summary>
internal sealed class RunsOptionsValidation : IValidateOptions<RunsOptions>
{
    public ValidateOptionsResult Validate(string? name, RunsOptions o)
    {
        var errors = new List<string>();
        if (o.SweepInterval < TimeSpan.FromMilliseconds(100) || o.SweepInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Runs__SweepInterval must be from 00:00:00.1 to 00:10:00, not {o.SweepInterval}.");
        }

        if (o.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || o.HeartbeatInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"Runs__HeartbeatInterval must be from 00:00:00.1 to 00:01:00, not {o.HeartbeatInterval}.");
        }

        if (o.KeepAliveIdle < TimeSpan.FromSeconds(1) || o.KeepAliveIdle > TimeSpan.FromHours(2))
        {
            errors.Add($"Runs__KeepAliveIdle must be from 00:00:01 to 02:00:00, not {o.KeepAliveIdle}.");
        }

        if (o.KeepAliveInterval < TimeSpan.FromSeconds(1) || o.KeepAliveInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Runs__KeepAliveInterval must be from 00:00:01 to 00:10:00, not {o.KeepAliveInterval}.");
        }

        if (o.KeepAliveCount is < 1 or > 100)
        {
            errors.Add($"Runs__KeepAliveCount must be from 1 to 100, not {o.KeepAliveCount}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
