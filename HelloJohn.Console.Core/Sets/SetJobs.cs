using Hangfire;

namespace HelloJohn.Console.Core.Sets;

/// <summary>The Hangfire job of a set's run: it looks at the server, keeps the roles and queues one backup job per
/// database on <see cref="Queue"/>, whose workers (Sets__Parallelism per console instance) dump them.</summary>
public sealed class SetJobs(SetRunner runner)
{
    /// <summary>The members' queue: bounded per instance, shared by every instance on one console database.</summary>
    public const string Queue = "set_members";

    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Back up a set ({0})")]
    public Task RunAsync(Guid runId, CancellationToken ct) => runner.RunAsync(runId, ct);
}
