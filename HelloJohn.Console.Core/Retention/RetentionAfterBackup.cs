using Hangfire;
using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Retention;

/// <summary>Applies retention after every backup that kept a file: it copies weekly and monthly tiers and expires what
/// the policy lets go.</summary>
internal sealed class RetentionAfterBackup(IBackgroundJobClient jobs) : IRunFinishedHandler
{
    public Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct)
    {
        if (finished is { Kind: RunKind.Backup, Status: RunStatus.Succeeded, TargetId: { } targetId })
        {
            jobs.Enqueue<RetentionJob>(j => j.RunAsync(targetId, CancellationToken.None));
        }

        return Task.CompletedTask;
    }
}
