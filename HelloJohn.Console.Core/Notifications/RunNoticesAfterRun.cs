using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Announces every run that ended, whatever ended it (the run itself, a Cancel, the sweep after its console
/// died), through the run lifecycle's one run-finished hook.</summary>
internal sealed class RunNoticesAfterRun(RunNotices notices) : IRunFinishedHandler
{
    public Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct) => finished.Kind switch
    {
        RunKind.Backup => notices.BackupFinishedAsync(finished.RunId, (finished.Summary as BackupRunSummary)?.FailedStores),
        RunKind.Verification => notices.VerificationFinishedAsync(finished.RunId),
        RunKind.Restore => notices.RestoreFinishedAsync(finished.RunId),
        RunKind.Recovery => notices.DrillFinishedAsync(finished.RunId),
        RunKind.BaseBackup => notices.BaseBackupFinishedAsync(finished.RunId),
        RunKind.PitrRestore => notices.PitrRestoreFinishedAsync(finished.RunId),
        _ => Task.CompletedTask,
    };
}
