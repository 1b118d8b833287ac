namespace HelloJohn.Console.Core.Runs;

/// <summary>A run ended: succeeded, failed or cancelled, on this instance or found dead by a sweep. Handed to every
/// <see cref="IRunFinishedHandler"/> once the end is recorded.</summary>
/// <param name="Kind">What the run did.</param>
/// <param name="RunId">The run (also the id of its kind's own record: a backup's, a restore's).</param>
/// <param name="TargetId">The target it worked for, if any.</param>
/// <param name="TargetName">That target's name.</param>
/// <param name="Status">How it ended.</param>
/// <param name="FailureKind">Why it failed, as data; null unless failed.</param>
/// <param name="Error">Why it did not succeed, in words for people.</param>
/// <param name="Duration">From its start to its end; null when it never started.</param>
/// <param name="Summary">The kind's own account (a backup's file and size, a restore's rows).</param>
public sealed record RunFinished(
    RunKind Kind,
    Guid RunId,
    Guid? TargetId,
    string? TargetName,
    RunStatus Status,
    RunFailureKind? FailureKind,
    string? Error,
    TimeSpan? Duration,
    RunSummary? Summary);

/// <summary>A kind's account of a finished run; each kind derives its own record (see <c>BackupRunSummary</c>).</summary>
/// <param name="Text">One sentence for people ("hellojohn_… 42 MB, 7 tables").</param>
public abstract record RunSummary(string Text);

/// <summary>Told of every run that ended (retention after a backup, verify after a backup, notifications). A handler's
/// failure is logged and never changes the run, which is already recorded.</summary>
public interface IRunFinishedHandler
{
    Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct);
}
