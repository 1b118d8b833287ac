using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Runs a drill from its first open step to the end, as one job owning the run: a failed step ends the drill
/// as failed, and the scratch database is dropped whatever happened.</summary>
public sealed class RecoveryDrillRunner(
    RecoveryRunStore store,
    RecoveryStepRunner steps,
    DrillScratch scratch,
    RunLifecycle lifecycle,
    IAuditLog audit,
    TimeProvider time,
    ILogger<RecoveryDrillRunner> logger)
{
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        var (run, target) = await store.LoadAsync(runId, ct);
        if (run.Scenario != RecoveryScenario.Drill || run.Status != RecoveryRunStatus.Active)
        {
            return;
        }

        await using var claim = await lifecycle.TakeOverAsync(runId, null, ct);
        if (claim is null)
        {
            logger.LogInformation("Drill {RunId} is executed elsewhere or ended; nothing to do", runId);
            return;
        }

        var actor = new Actor(run.StartedByUserId, run.StartedBy, [ConsoleRoles.Operator]);
        var states = await store.StatesAsync(runId, ct);
        foreach (var def in RecoveryScenarios.StepsOf(run.Scenario))
        {
            if (states.Single(s => s.Key == def.Key).Status == RecoveryStepStatus.Passed)
            {
                continue;
            }

            if (!await store.ClaimStepAsync(runId, def.Key, RecoveryStepStatus.Running, actor, ct))
            {
                await lifecycle.ReleaseAsync(claim);
                return;
            }

            var outcome = await steps.RunAsync(run, target, def, actor, claim);
            if (await steps.FinishAsync(run, target, def, outcome, actor, claim))
            {
                return;
            }

            if (!outcome.Passed)
            {
                await DropScratchAsync(run);
                var reason = $"The drill failed at \"{def.Title}\": {outcome.Message}";
                await lifecycle.FinishAsync(claim, new RunEnd(RunStatus.Failed, reason, RunFailureKind.Unexpected)
                {
                    Record = (db, c) => RecoveryRunStore.RecordEndAsync(db, runId, RecoveryRunStatus.Failed, time.GetUtcNow(), actor.Name, reason, c),
                });
                await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: Drill", AuditOutcome.Failed, $"run {runId}: failed at {def.Title}", CancellationToken.None);
                store.Publish(runId, def.Key);
                return;
            }
        }

        await lifecycle.ReleaseAsync(claim);
    }

    /// <summary>Drops the drill's scratch database after it failed or was abandoned, bounded on its own.</summary>
    public async Task DropScratchAsync(RecoveryRun run)
    {
        using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            var (fresh, _) = await store.LoadAsync(run.Id, cleanup.Token);
            if (await scratch.DropAsync(run.TargetId, fresh.ScratchDatabase, cleanup.Token))
            {
                await store.AppendLogAsync(run.Id, DrillSteps.DropKey, RecoveryLogLevel.Info, $"Dropped the scratch database {fresh.ScratchDatabase}.");
            }
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            await store.AppendLogAsync(run.Id, DrillSteps.DropKey, RecoveryLogLevel.Error, $"Could not drop the scratch database: {e.Message}. Drop it by hand.");
        }
    }
}
