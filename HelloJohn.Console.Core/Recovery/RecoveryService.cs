using Hangfire;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Recovery;

public sealed record RecoveryStartRequest(RecoveryScenario Scenario, Guid TargetId, DateTimeOffset? IncidentAt = null);

public sealed record RecoveryStepResult(RecoveryStepStatus Status, string? Message);

/// <summary>The wizards, as people drive them. A run is an ordered list of steps kept in the console database
/// (<see cref="RecoveryRunStore"/>); a step opens only when every step before it passed, its automated part runs as a
/// job (<see cref="RecoveryStepRunner"/>) and its check decides whether it passed. Every state change is audited; RPO
/// and RTO are measured when the last check passes (<see cref="RecoveryMeasure"/>). A drill runs alone
/// (<see cref="RecoveryDrillRunner"/>).</summary>
public sealed class RecoveryService(
    TargetService targets,
    RecoveryRunStore store,
    RecoveryStepRunner steps,
    RecoveryDrillRunner drills,
    RecoveryQueries queries,
    RecoveryBackups backups,
    RecoveryConnectionVault vault,
    RunLifecycle lifecycle,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    TimeProvider time,
    ILogger<RecoveryService> logger)
{
    /// <summary>Starts a wizard for a target. Refused (with the id of the run to resume) while another run of the same
    /// scenario is active for that target. A drill starts running at once, as a job.</summary>
    public async Task<Guid> StartAsync(Actor actor, RecoveryStartRequest request, CancellationToken ct)
    {
        var info = RecoveryScenarios.Info(request.Scenario);
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStarted, info.Title, ct);
        var runId = await CreateRunAsync(actor, request, ct);
        if (request.Scenario == RecoveryScenario.Drill)
        {
            await lifecycle.EnqueueAsync<RecoveryJob>(runId, j => j.RunDrillAsync(runId, CancellationToken.None), ct);
        }

        return runId;
    }

    private async Task<Guid> CreateRunAsync(Actor actor, RecoveryStartRequest request, CancellationToken ct)
    {
        TargetSummary target;
        try
        {
            target = await targets.GetAsync(request.TargetId, ct);
        }
        catch (KeyNotFoundException)
        {
            throw new RecoveryRefusedException($"There is no target {request.TargetId}; it may have been removed. Nothing was started.");
        }

        var now = time.GetUtcNow();
        if (request.IncidentAt is { } incident && incident > now)
        {
            throw new RecoveryInputException($"The incident time {incident:u} is in the future. Give the time the database stopped (or leave it empty to have it detected). Nothing was started.");
        }

        var defs = RecoveryScenarios.StepsOf(request.Scenario);
        // A wizard is running from its start; it waits for people between steps, owned by no instance.
        var lifecycleRun = lifecycle.NewRun(RunKind.Recovery, target.Id, actor, defs[0].Key);
        lifecycleRun.Status = RunStatus.Running;
        lifecycleRun.StartedAt = now;
        var drill = request.Scenario == RecoveryScenario.Drill;
        var run = new RecoveryRun
        {
            Id = lifecycleRun.Id,
            Scenario = request.Scenario,
            TargetId = target.Id,
            Provider = target.Provider,
            Status = RecoveryRunStatus.Active,
            StartedBy = actor.Name,
            StartedByUserId = actor.UserId,
            StartedAt = now,
            IncidentAt = drill ? now : request.IncidentAt,
            IncidentSource = drill ? IncidentTimeSource.RunStart : request.IncidentAt is null ? null : IncidentTimeSource.Entered,
            Steps = [.. defs.Select((s, i) => new RecoveryStepState { RunId = lifecycleRun.Id, Position = i + 1, Key = s.Key, Status = RecoveryStepStatus.Pending })],
        };
        await store.CreateAsync(run, lifecycleRun, target, ct);

        var incidentText = run.IncidentAt is { } at ? $"incident {at:u} ({run.IncidentSource})" : "incident time to be detected";
        await audit.RecordAsync(actor, AuditActions.RecoveryStarted, $"{target.Name}: {RecoveryScenarios.Info(request.Scenario).Title}", AuditOutcome.Succeeded,
            $"run {run.Id}, provider {target.Provider}, {incidentText}", ct);
        logger.LogInformation("Recovery run {RunId} ({Scenario}) of target {Target} started by {Actor}", run.Id, run.Scenario, target.Name, actor.Name);
        lifecycle.Queued(lifecycleRun);
        return run.Id;
    }

    /// <summary>Runs a step: applies its inputs, then its action (as a job) and its check. Refused when an earlier step
    /// has not passed, when the step is already running or passed, or when it can only be marked done by hand.</summary>
    public async Task<RecoveryStepResult> AdvanceAsync(Actor actor, Guid runId, string stepKey, IReadOnlyDictionary<string, string?>? inputs, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: {stepKey}", ct);
        var (run, target, def) = await OpenStepAsync(runId, stepKey, ct);
        if (def.ExtraPermission is { } extra)
        {
            await DemandAsync(actor, extra, AuditActions.RecoveryStep, $"{target.Name}: {def.Title}", ct);
        }

        if (def.IsManual)
        {
            throw new RecoveryRefusedException($"\"{def.Title}\" has nothing the console can check: mark it done once it is done. Nothing was run.");
        }

        if (!await store.ClaimStepAsync(runId, stepKey, def.RunsAsJob ? RecoveryStepStatus.Queued : RecoveryStepStatus.Running, actor, ct))
        {
            throw new RecoveryRefusedException($"\"{def.Title}\" is already running or has passed (another engineer may have started it). Nothing was run; the page shows its state.");
        }

        if (def.TakesInput && (inputs is not null || def.Inputs.Any(i => i.Required)))
        {
            try
            {
                await steps.ApplyInputAsync(run, target, def, actor, inputs ?? new Dictionary<string, string?>(), ct);
            }
            catch (RecoveryInputException e)
            {
                await steps.FinishAsync(run, target, def, CheckOutcome.Fail(e.Message), actor, null);
                throw;
            }
        }

        if (def.RunsAsJob)
        {
            var jobId = jobs.Enqueue<RecoveryJob>(j => j.RunStepAsync(runId, stepKey, CancellationToken.None));
            await store.SetStepJobAsync(runId, stepKey, jobId, ct);
            await store.AppendLogAsync(runId, stepKey, RecoveryLogLevel.Info, $"{def.ActionLabel ?? "Check"} requested by {actor.Name}; queued.");
            return new RecoveryStepResult(RecoveryStepStatus.Queued, null);
        }

        var outcome = await ExecuteOwnedAsync(run, target, def, actor, ct);
        return new RecoveryStepResult(outcome.Passed ? RecoveryStepStatus.Passed : RecoveryStepStatus.Failed, outcome.Message);
    }

    /// <summary>The Hangfire job's body. Re-entrant: a step that is no longer queued is left alone.</summary>
    public async Task ExecuteStepAsync(Guid runId, string stepKey, CancellationToken ct)
    {
        var (run, target) = await store.LoadAsync(runId, ct);
        var def = RecoveryScenarios.StepsOf(run.Scenario).First(d => d.Key == stepKey);
        var state = (await store.StatesAsync(runId, ct)).First(s => s.Key == stepKey);
        if (state.Status != RecoveryStepStatus.Queued)
        {
            logger.LogInformation("Recovery step {Step} of run {RunId} is {Status}, not queued; nothing to do", stepKey, runId, state.Status);
            return;
        }

        var actor = ActorFor(state, def);
        if (run.Status != RecoveryRunStatus.Active)
        {
            await steps.FinishAsync(run, target, def, CheckOutcome.Fail($"The run was {run.Status.ToString().ToLowerInvariant()} before this step started. Nothing was run."), actor, null);
            return;
        }

        await ExecuteOwnedAsync(run, target, def, actor, ct);
    }

    /// <summary>Runs a claimed step while this instance owns the run, and lets go of it afterwards.</summary>
    private async Task<CheckOutcome> ExecuteOwnedAsync(RecoveryRun run, TargetSummary target, RecoveryStepDefinition def, Actor actor, CancellationToken ct)
    {
        await using var claim = await lifecycle.TakeOverAsync(run.Id, def.Key, ct);
        if (claim is null)
        {
            var busy = CheckOutcome.Fail("Another console instance is still finishing this run's previous work, or the run has ended. Nothing was run; try again in a few seconds.");
            await steps.FinishAsync(run, target, def, busy, actor, null);
            return busy;
        }

        var outcome = await steps.RunAsync(run, target, def, actor, claim);
        if (!await steps.FinishAsync(run, target, def, outcome, actor, claim))
        {
            var next = (await store.StatesAsync(run.Id, CancellationToken.None)).FirstOrDefault(s => s.Status != RecoveryStepStatus.Passed)?.Key;
            await lifecycle.ReleaseAsync(claim, next);
        }

        return outcome;
    }

    /// <summary>A job acts for the person who pressed the button, with the role the step needed when they pressed it.</summary>
    private static Actor ActorFor(RecoveryStepState state, RecoveryStepDefinition def)
    {
        var role = def.ExtraPermission is { } p && !ConsolePermissions.RoleHas(ConsoleRoles.Operator, p) ? ConsoleRoles.Admin : ConsoleRoles.Operator;
        return new Actor(state.RequestedByUserId, state.RequestedBy ?? "system", [role]);
    }

    /// <summary>Marks a step that has no possible check as done, recording who did.</summary>
    public async Task MarkDoneAsync(Actor actor, Guid runId, string stepKey, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: {stepKey}", ct);
        var (run, target, def) = await OpenStepAsync(runId, stepKey, ct);
        if (!def.IsManual)
        {
            throw new RecoveryRefusedException($"\"{def.Title}\" has a check: run it. Only steps the console cannot check can be marked done by hand.");
        }

        await steps.MarkDoneAsync(run, target, def, actor, ct);
    }

    /// <summary>Stops a run before its end; a step executing for it stops too. A drill's scratch database is dropped.</summary>
    public async Task AbandonAsync(Actor actor, Guid runId, string? reason, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: abandon", ct);
        var (run, target) = await store.LoadAsync(runId, ct);
        var why = string.IsNullOrWhiteSpace(reason) ? $"Abandoned by {actor.Name}." : $"Abandoned by {actor.Name}: {reason.Trim()}";
        why = why.Length > 1000 ? why[..1000] : why;
        var now = time.GetUtcNow();
        var ended = await lifecycle.EndRunningAsync(runId, new RunEnd(RunStatus.Cancelled, why)
        {
            Record = async (db, c) =>
            {
                if (await RecoveryRunStore.RecordEndAsync(db, runId, RecoveryRunStatus.Abandoned, now, actor.Name, why, c) == 0)
                {
                    throw new RecoveryRefusedException($"This run is already {run.Status.ToString().ToLowerInvariant()}. Nothing changed.");
                }
            },
        });
        if (!ended)
        {
            throw new RecoveryRefusedException($"This run is already {run.Status.ToString().ToLowerInvariant()}. Nothing changed.");
        }

        if (run.Scenario == RecoveryScenario.Drill)
        {
            await drills.DropScratchAsync(run);
        }

        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {RecoveryScenarios.Info(run.Scenario).Title}", AuditOutcome.Succeeded, $"run {runId}: {why}", ct);
        store.Publish(runId, null);
    }

    /// <summary>The new HELLOJOHN_DATABASE_URL with its password, for the copy button only. Audited without the value.</summary>
    public async Task<string> RevealNewDatabaseUrlAsync(Actor actor, Guid runId, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: copy database URL", ct);
        var (run, target) = await store.LoadAsync(runId, ct);
        var connection = vault.Unprotect(run) ?? throw new RecoveryRefusedException("This run has no new database connection yet. Nothing was copied.");
        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: new HELLOJOHN_DATABASE_URL", AuditOutcome.Succeeded,
            $"run {runId}: {actor.Name} copied the URL of {connection.Describe()}", ct);
        return connection.ToUrl(includePassword: true);
    }

    public Task<RecoveryRunView?> GetAsync(Guid runId, CancellationToken ct) => queries.GetAsync(runId, ct);

    public Task<RecoveryRunPage> ListAsync(RecoveryRunQuery query, CancellationToken ct) => queries.ListAsync(query, ct);

    /// <summary>The active run of a scenario for a target, to resume; null when there is none.</summary>
    public Task<Guid?> FindActiveAsync(Guid targetId, RecoveryScenario scenario, CancellationToken ct) => queries.FindActiveAsync(targetId, scenario, ct);

    /// <summary>The newest finished drill (completed or failed), of one target or of any.</summary>
    public Task<LastDrill?> GetLastDrillAsync(Guid? targetId, CancellationToken ct) => queries.GetLastDrillAsync(targetId, ct);

    public async Task<IReadOnlyList<BackupCandidate>> GetBackupCandidatesAsync(Guid runId, CancellationToken ct)
    {
        var (run, _) = await store.LoadAsync(runId, ct);
        return await backups.CandidatesAsync(run, ct);
    }

    /// <summary>Runs a drill from its first open step to the end, as one job.</summary>
    public Task RunDrillAsync(Guid runId, CancellationToken ct) => drills.RunAsync(runId, ct);

    /// <summary>The scheduled drill of a target: starts it as the console itself and runs it to the end.</summary>
    public async Task RunScheduledDrillAsync(Guid targetId, CancellationToken ct)
    {
        Guid runId;
        try
        {
            runId = await CreateRunAsync(Actor.System, new RecoveryStartRequest(RecoveryScenario.Drill, targetId), ct);
        }
        catch (RecoveryRefusedException e)
        {
            logger.LogWarning("Scheduled drill of target {TargetId} not started: {Reason}", targetId, e.Message);
            return;
        }

        await drills.RunAsync(runId, ct);
    }

    private async Task<(RecoveryRun Run, TargetSummary Target, RecoveryStepDefinition Def)> OpenStepAsync(Guid runId, string stepKey, CancellationToken ct)
    {
        var (run, target) = await store.LoadAsync(runId, ct);
        if (run.Status != RecoveryRunStatus.Active)
        {
            throw new RecoveryRefusedException($"This run is {run.Status.ToString().ToLowerInvariant()}; nothing more can be done in it. Start a new run.");
        }

        var defs = RecoveryScenarios.StepsOf(run.Scenario);
        var def = defs.FirstOrDefault(d => d.Key == stepKey) ?? throw new RecoveryRefusedException($"This wizard has no step '{stepKey}'. Nothing was run.");
        var states = await store.StatesAsync(runId, ct);
        var state = states.First(s => s.Key == stepKey);
        var blocking = states.FirstOrDefault(s => s.Position < state.Position && s.Status != RecoveryStepStatus.Passed);
        if (blocking is not null)
        {
            var title = defs.First(d => d.Key == blocking.Key).Title;
            throw new RecoveryRefusedException($"Step {state.Position} \"{def.Title}\" opens once step {blocking.Position} \"{title}\" has passed. Nothing was run.");
        }

        return (run, target, def);
    }

    private async Task DemandAsync(Actor actor, ConsolePermission permission, string action, string target, CancellationToken ct)
    {
        if (!actor.Has(permission))
        {
            await audit.RecordAsync(actor, action, target, AuditOutcome.Denied, $"needs {permission}", ct);
            actor.Demand(permission);
        }
    }
}
