using Hangfire;
using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Retention;

/// <summary>Applies retention after every backup that kept a file: it copies weekly and monthly tiers and expires what
/// the policy lets go.</summary>
internal sealed class RetentionAfterBackup(IBackgroundJobClient jobs) : IRunFinishedHandler
{
    public Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct)
    {
        // A set's members are kept or expired with their set: retention follows the set's end, not each member's.
        var wholeBackup = finished is { Kind: RunKind.Backup, Status: RunStatus.Succeeded } && finished.Summary is not Backups.BackupRunSummary { SetId: not null };
        var keptSet = finished is { Kind: RunKind.BackupSet, Summary: Sets.SetRunSummary { Status: Sets.BackupSetStatus.Succeeded or Sets.BackupSetStatus.Partial } };
        if ((wholeBackup || keptSet) && finished.TargetId is { } targetId)
        {
            jobs.Enqueue<RetentionJob>(j => j.RunAsync(targetId, CancellationToken.None));
        }

        return Task.CompletedTask;
    }
}
