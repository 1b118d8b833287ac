using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Executes one step of a run: its handler (resolved for this execution, with its own dependencies) applies
/// the inputs, acts and checks; the outcome is recorded with its log line, and when it is the last step to pass, the
/// run completes with its measured RPO and RTO in the same transaction. Every outcome is audited.</summary>
public sealed class RecoveryStepRunner(
    IServiceScopeFactory scopes,
    RecoveryRunStore store,
    RecoveryMeasure measure,
    RecoveryConnectionVault vault,
    RunLifecycle lifecycle,
    IAuditLog audit,
    TimeProvider time,
    ILogger<RecoveryStepRunner> logger)
{
    /// <summary>Applies a step's inputs to the run and keeps them; throws <see cref="RecoveryInputException"/> for bad input.</summary>
    internal async Task ApplyInputAsync(RecoveryRun run, TargetSummary target, RecoveryStepDefinition def, Actor actor, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await HandlerOf(scope, def).ApplyInputAsync(Context(run, target, actor, def.Key, null), inputs, ct);
        await store.SaveRunAsync(run);
    }

    /// <summary>Runs the step's action and check under <paramref name="claim"/> (the run's ownership) and returns the
    /// outcome; failures become failed outcomes with their reason. What the step learned is kept either way.</summary>
    internal async Task<CheckOutcome> RunAsync(RecoveryRun run, TargetSummary target, RecoveryStepDefinition def, Actor actor, RunClaim claim)
    {
        var ct = claim.Token;
        await store.MarkRunningAsync(run.Id, def.Key);
        await lifecycle.SetPhaseAsync(claim, def.Key);
        var ctx = Context(run, target, actor, def.Key, claim);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var step = HandlerOf(scope, def);
            if (def.Action is not null)
            {
                await step.ActAsync(ctx, ct);
                await store.SaveRunAsync(run);
            }

            return await step.CheckAsync(ctx, ct);
        }
        catch (Exception e) when (e is RecoveryStepFailedException or RecoveryInputException or PermissionDeniedException)
        {
            return CheckOutcome.Fail(e.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return CheckOutcome.Fail(claim.StopReason is { } why
                ? $"Stopped before it finished ({why}). Run it again."
                : "Stopped before it finished: the console shut down or the job was cancelled. Run it again.");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return CheckOutcome.Fail(vault.Unprotect(run) is { } where ? NewServerProbe.Describe(e, where) : $"The database could not be reached: {e.Message}");
        }
        catch (Exception e)
        {
            logger.LogError(e, "Recovery step {Step} of run {RunId} failed unexpectedly", def.Key, run.Id);
            return CheckOutcome.Fail($"The step failed unexpectedly ({e.GetType().Name}: {e.Message}). Run it again; if it fails again, the console's log has the details.");
        }
        finally
        {
            // What the step learned (a chosen backup, a restore that wrote) is kept even when it failed.
            await store.SaveRunAsync(run);
        }
    }

    /// <summary>Records the outcome; when it completes the run, the run ends with its RPO and RTO in the same change.
    /// Returns whether the run completed.</summary>
    internal async Task<bool> FinishAsync(RecoveryRun run, TargetSummary target, RecoveryStepDefinition def, CheckOutcome outcome, Actor actor, RunClaim? claim)
    {
        var states = await store.StatesAsync(run.Id, CancellationToken.None);
        RecoveryMeasurement? measured = null;
        var completed = false;
        if (outcome.Passed && states.All(s => s.Key == def.Key || s.Status == RecoveryStepStatus.Passed))
        {
            var end = RunEnd.Succeeded() with
            {
                // The last step passing and the run completing are one change: nobody sees one without the other.
                Record = async (db, ct) =>
                {
                    await store.RecordStepAsync(db, run.Id, def.Key, outcome, actor, ct);
                    var now = await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == run.Id).ToListAsync(ct);
                    measured = await measure.MeasureAsync(run, now, time.GetUtcNow(), ct);
                    await store.RecordCompletionAsync(db, run, measured, states.OrderBy(s => s.Position).Last().Key, actor, ct);
                },
            };
            completed = claim is not null ? await lifecycle.FinishAsync(claim, end) : await lifecycle.EndRunningAsync(run.Id, end);
        }

        if (!completed)
        {
            await store.RecordStepInOwnChangeAsync(run.Id, def.Key, outcome, actor);
        }

        var message = outcome.Message.Length > 1500 ? outcome.Message[..1500] : outcome.Message;
        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {def.Title}", outcome.Passed ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            $"run {run.Id}: {message}", CancellationToken.None);
        RecoveryLog.StepEnded(logger, run.Id, run.Scenario, def.Key, outcome.Passed ? "passed" : "failed");
        if (completed && measured is not null)
        {
            await AuditCompletionAsync(run, target, actor, measured.Summary);
        }

        store.Publish(run.Id, def.Key);
        return completed;
    }

    /// <summary>A manual step done by hand, which may complete the run.</summary>
    internal async Task MarkDoneAsync(RecoveryRun run, TargetSummary target, RecoveryStepDefinition def, Actor actor, CancellationToken ct)
    {
        var states = await store.StatesAsync(run.Id, ct);
        RecoveryMeasurement? measured = null;
        var done = false;
        if (states.All(s => s.Key == def.Key || s.Status == RecoveryStepStatus.Passed))
        {
            done = await lifecycle.EndRunningAsync(run.Id, RunEnd.Succeeded() with
            {
                Record = async (db, c) =>
                {
                    if (!await store.RecordDoneByHandAsync(db, run.Id, def.Key, actor, c))
                    {
                        throw new RecoveryRefusedException($"\"{def.Title}\" was already marked done. Nothing changed.");
                    }

                    measured = await measure.MeasureAsync(run, await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == run.Id).ToListAsync(c), time.GetUtcNow(), c);
                    await store.RecordCompletionAsync(db, run, measured, states.OrderBy(s => s.Position).Last().Key, actor, c);
                },
            });
        }

        if (!done)
        {
            await store.RecordDoneByHandInOwnChangeAsync(run.Id, def.Key, def.Title, actor, ct);
        }

        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {def.Title}", AuditOutcome.Succeeded, $"run {run.Id}: marked done by hand", ct);
        if (measured is not null)
        {
            await AuditCompletionAsync(run, target, actor, measured.Summary);
        }

        store.Publish(run.Id, def.Key);
    }

    private async Task AuditCompletionAsync(RecoveryRun run, TargetSummary target, Actor actor, string summary)
    {
        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {RecoveryScenarios.Info(run.Scenario).Title}", AuditOutcome.Succeeded,
            $"run {run.Id} completed: {summary}", CancellationToken.None);
        logger.LogInformation("Recovery run {RunId} ({Scenario}) of {Target} completed: {Summary}", run.Id, run.Scenario, target.Name, summary);
    }

    private static IRecoveryStep HandlerOf(AsyncServiceScope scope, RecoveryStepDefinition def) =>
        def.Handler is { } type ? (IRecoveryStep)scope.ServiceProvider.GetRequiredService(type)
            : throw new RecoveryRefusedException($"\"{def.Title}\" is done by hand; the console has nothing to run for it.");

    private RecoveryStepContext Context(RecoveryRun run, TargetSummary target, Actor actor, string stepKey, RunClaim? claim) =>
        new(run, target, actor, vault, (level, text) => store.AppendLogAsync(run.Id, stepKey, level, text),
            claim is null ? null : (done, total) => lifecycle.ReportProgress(claim, done, total));
}
