using HelloJohn.Console.Core.Data;

namespace HelloJohn.Console.Core.Runs;

/// <summary>What the run lifecycle needs to know of one kind of run. Each kind registers one.</summary>
public interface IRunKind
{
    RunKind Kind { get; }

    /// <summary>The audit action recorded when a run of this kind ends; null when its ends are audited by the kind itself.</summary>
    string? FinishedAuditAction { get; }

    /// <summary>How the audit trail names a run of this kind ("hellojohn_20261125_020000.dump.zst → hellojohn_restore").</summary>
    Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct);

    /// <summary>Keeps the kind's own record in step with a status change, inside the lifecycle's transaction. Most
    /// kinds have nothing to do: their status is the run's.</summary>
    Task OnStatusChangedAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Cleans up what a run left when the console instance that ran it died (partial files, throw-away
    /// databases, multipart uploads) and says what was done, for the run's error.</summary>
    Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct);

    /// <summary>After the sweep ended a dead instance's run as failed: makes the kind's own record tell the truth about
    /// what the run left (a backup whose complete file and manifest reached storage is a good backup). Returns a
    /// sentence to add to the run's error, or null.</summary>
    Task<string?> AfterAbandonedRunEndedAsync(RunRecord run, CancellationToken ct) => Task.FromResult<string?>(null);

    /// <summary>Periodic tidying that belongs to no single run (files no run owns any more); after each sweep.</summary>
    Task TidyAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>What was cleaned after a dead instance's run, as a sentence; <see cref="EndsRun"/> false for a run that goes
/// on without that instance (a recovery wizard, whose interrupted step can be run again).</summary>
public sealed record AbandonedRunCleanup(string Done, bool EndsRun = true, RunSummary? Summary = null);
