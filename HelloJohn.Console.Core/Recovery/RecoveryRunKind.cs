using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Recovery runs as runs. A wizard waits for people between its steps; only while a step executes does an
/// instance own it. When that instance dies, the interrupted step fails (it can be run again) and the wizard goes on;
/// a drill, which runs alone, ends as failed and its scratch database is dropped. Steps and completion are audited by
/// the wizard itself.</summary>
internal sealed class RecoveryRunKind(IDbContextFactory<ConsoleDbContext> dbFactory, RecoveryRunStore store, DrillScratch scratch) : IRunKind
{
    public RunKind Kind => RunKind.Recovery;

    public string? FinishedAuditAction => null;

    public async Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct)
    {
        var scenario = await db.Set<RecoveryRun>().Where(r => r.Id == run.Id).Select(r => (RecoveryScenario?)r.Scenario).FirstOrDefaultAsync(ct);
        return scenario is { } s ? $"{RecoveryScenarios.Info(s).Title} (run {run.Id})" : run.Id.ToString();
    }

    /// <summary>A wizard ended by the lifecycle (a sweep, a cancel) rather than by its own steps says so in its record.</summary>
    public async Task OnStatusChangedAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct)
    {
        if (run.Status is RunStatus.Failed or RunStatus.Cancelled)
        {
            await RecoveryRunStore.RecordEndAsync(db, run.Id, run.Status == RunStatus.Failed ? RecoveryRunStatus.Failed : RecoveryRunStatus.Abandoned,
                run.FinishedAt!.Value, run.CancelRequestedBy ?? "system", run.Error ?? "", ct);
        }
    }

    public async Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        RecoveryRun? recovery;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            recovery = await db.Set<RecoveryRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == run.Id, ct);
        }

        var interrupted = await store.FailInterruptedStepsAsync(run.Id, ct);
        if (recovery?.Scenario != RecoveryScenario.Drill)
        {
            return new AbandonedRunCleanup($"{(interrupted.Count == 0 ? "No step was running" : $"The step {string.Join(", ", interrupted)} was interrupted and can be run again")}.", EndsRun: false);
        }

        var dropped = await scratch.DropAsync(run.TargetId ?? recovery.TargetId, recovery.ScratchDatabase, ct);
        return new AbandonedRunCleanup(dropped ? $"Its scratch database {recovery.ScratchDatabase} was dropped; start a new drill." : "It had no scratch database yet; start a new drill.");
    }
}
