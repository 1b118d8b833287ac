using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Raises each finished run's notification through the run lifecycle's one hook.</summary>
internal sealed class RunNoticesOnFinish(RunNotices notices) : IRunFinishedHandler
{
    public Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct) => finished.Kind switch
    {
        RunKind.Backup => notices.BackupFinishedAsync(finished.RunId),
        RunKind.Verification => notices.VerificationFinishedAsync(finished.RunId),
        RunKind.Restore => notices.RestoreFinishedAsync(finished.RunId),
        RunKind.Recovery => notices.DrillFinishedAsync(finished.RunId),
        _ => Task.CompletedTask,
    };
}
