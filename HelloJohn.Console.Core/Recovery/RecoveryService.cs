using System.Diagnostics;
using Hangfire;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

public sealed record RecoveryStartRequest(RecoveryScenario Scenario, Guid TargetId, DateTimeOffset? IncidentAt = null);

public sealed record RecoveryStepResult(RecoveryStepStatus Status, string? Message);

/// <summary>The wizard engine. A run is an ordered list of steps kept in the console database; a step opens only when
/// every step before it passed, its automated part runs as a Hangfire job with a persisted log, and its check decides
/// whether it passed. Every state change is audited; RPO and RTO are measured when the last check passes.</summary>
public sealed class RecoveryService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    IServiceProvider services,
    RecoveryConnectionVault vault,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    RecoveryProgressNotifier notifier,
    TimeProvider time,
    ILogger<RecoveryService> logger,
    Notifications.RunNotices notices)
{
    private const int MaxLogLinesShown = 2000;

    /// <summary>Steps executing in this process. A step marked running by this process but not in here was left behind
    /// by a console host that stopped (in tests, several hosts share one process).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid RunId, string Key), byte> RunningHere = new();

    /// <summary>Starts a wizard for a target. Refused (with the id of the run to resume) while another run of the same
    /// scenario is active for that target. A drill starts running at once, as a job.</summary>
    public async Task<Guid> StartAsync(Actor actor, RecoveryStartRequest request, CancellationToken ct)
    {
        var info = RecoveryScenarios.Info(request.Scenario);
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStarted, info.Title, ct);
        var runId = await CreateRunAsync(actor, request, ct);
        if (request.Scenario == RecoveryScenario.Drill)
        {
            jobs.Enqueue<RecoveryJob>(j => j.RunDrillAsync(runId, CancellationToken.None));
        }

        return runId;
    }

    private async Task<Guid> CreateRunAsync(Actor actor, RecoveryStartRequest request, CancellationToken ct)
    {
        var info = RecoveryScenarios.Info(request.Scenario);
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

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var existing = await db.Set<RecoveryRun>().AsNoTracking()
            .Where(r => r.TargetId == target.Id && r.Scenario == request.Scenario && r.Status == RecoveryRunStatus.Active)
            .Select(r => new { r.Id, r.StartedBy, r.StartedAt }).FirstOrDefaultAsync(ct);
        if (existing is not null)
        {
            throw AlreadyActive(info, target, existing.Id, existing.StartedBy, existing.StartedAt);
        }

        var run = new RecoveryRun
        {
            Id = Guid.NewGuid(),
            Scenario = request.Scenario,
            TargetId = target.Id,
            Provider = target.Provider,
            Status = RecoveryRunStatus.Active,
            StartedBy = actor.Name,
            StartedByUserId = actor.UserId,
            StartedAt = now,
            IncidentAt = request.Scenario == RecoveryScenario.Drill ? now : request.IncidentAt,
            IncidentSource = request.Scenario == RecoveryScenario.Drill ? IncidentTimeSource.RunStart : request.IncidentAt is null ? null : IncidentTimeSource.Entered,
        };
        var steps = RecoveryScenarios.StepsOf(request.Scenario);
        run.Steps = [.. steps.Select((s, i) => new RecoveryStepState { RunId = run.Id, Position = i + 1, Key = s.Key, Status = RecoveryStepStatus.Pending })];
        db.Add(run);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another engineer started the same scenario a moment ago (on this or another console instance).
            await using var again = await dbFactory.CreateDbContextAsync(ct);
            var other = await again.Set<RecoveryRun>().AsNoTracking()
                .FirstAsync(r => r.TargetId == target.Id && r.Scenario == request.Scenario && r.Status == RecoveryRunStatus.Active, ct);
            throw AlreadyActive(info, target, other.Id, other.StartedBy, other.StartedAt);
        }

        var incidentText = run.IncidentAt is { } at ? $"incident {at:u} ({run.IncidentSource})" : "incident time to be detected";
        await audit.RecordAsync(actor, AuditActions.RecoveryStarted, $"{target.Name}: {info.Title}", AuditOutcome.Succeeded,
            $"run {run.Id}, provider {target.Provider}, {incidentText}", ct);
        logger.LogInformation("Recovery run {RunId} ({Scenario}) of target {Target} started by {Actor}", run.Id, run.Scenario, target.Name, actor.Name);
        notifier.Publish(run.Id);
        return run.Id;
    }

    private static RecoveryRefusedException AlreadyActive(RecoveryScenarioInfo info, TargetSummary target, Guid id, string by, DateTimeOffset at) =>
        new($"A \"{info.Title}\" run for '{target.Name}' is already in progress (started by {by} at {at:u}). Resume it at /recovery/{id}, or abandon it first. Nothing was started.")
        {
            ExistingRunId = id,
        };

    /// <summary>Runs a step: applies its inputs, then its action (as a job) and its check. Refused when an earlier step
    /// has not passed, when the step is already running or passed, or when it can only be marked done by hand.</summary>
    public async Task<RecoveryStepResult> AdvanceAsync(Actor actor, Guid runId, string stepKey, IReadOnlyDictionary<string, string?>? inputs, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: {stepKey}", ct);
        var (run, target, def, state) = await OpenStepAsync(runId, stepKey, ct);
        if (def.ExtraPermission is { } extra)
        {
            await DemandAsync(actor, extra, AuditActions.RecoveryStep, $"{target.Name}: {def.Title}", ct);
        }

        if (def.IsManual)
        {
            throw new RecoveryRefusedException($"\"{def.Title}\" has nothing the console can check: mark it done once it is done. Nothing was run.");
        }

        var claimed = def.RunsAsJob ? RecoveryStepStatus.Queued : RecoveryStepStatus.Running;
        if (!await ClaimAsync(runId, stepKey, claimed, actor, ct))
        {
            throw new RecoveryRefusedException($"\"{def.Title}\" is already running or has passed (another engineer may have started it). Nothing was run; the page shows its state.");
        }

        var ctx = Context(run, target, actor, stepKey);
        if (def.ApplyInput is not null && (inputs is not null || def.Inputs.Any(i => i.Required)))
        {
            try
            {
                await def.ApplyInput(ctx, inputs ?? new Dictionary<string, string?>(), ct);
                await SaveRunAsync(run);
            }
            catch (RecoveryInputException e)
            {
                await FinishStepAsync(run, target, def, CheckOutcome.Fail(e.Message), actor);
                throw;
            }
        }

        if (def.RunsAsJob)
        {
            var jobId = jobs.Enqueue<RecoveryJob>(j => j.RunStepAsync(runId, stepKey, CancellationToken.None));
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                await db.Set<RecoveryStepState>().Where(s => s.RunId == runId && s.Key == stepKey)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.JobId, jobId), ct);
            }

            await AppendLogAsync(runId, stepKey, RecoveryLogLevel.Info, $"{def.ActionLabel ?? "Check"} requested by {actor.Name}; queued.");
            notifier.Publish(runId);
            return new RecoveryStepResult(RecoveryStepStatus.Queued, null);
        }

        await MarkRunningAsync(runId, stepKey);
        var outcome = await RunActionAndCheckAsync(ctx, def, ct);
        await FinishStepAsync(run, target, def, outcome, actor);
        return new RecoveryStepResult(outcome.Passed ? RecoveryStepStatus.Passed : RecoveryStepStatus.Failed, outcome.Message);
    }

    /// <summary>The Hangfire job's body. Re-entrant: a step that is no longer queued is left alone.</summary>
    public async Task ExecuteStepAsync(Guid runId, string stepKey, CancellationToken ct)
    {
        var (run, target) = await LoadRunAsync(runId, ct);
        var def = RecoveryScenarios.StepsOf(run.Scenario).First(d => d.Key == stepKey);
        RecoveryStepState state;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            state = await db.Set<RecoveryStepState>().AsNoTracking().FirstAsync(s => s.RunId == runId && s.Key == stepKey, ct);
        }

        if (state.Status != RecoveryStepStatus.Queued)
        {
            logger.LogInformation("Recovery step {Step} of run {RunId} is {Status}, not queued; nothing to do", stepKey, runId, state.Status);
            return;
        }

        var actor = ActorFor(state, def);
        if (run.Status != RecoveryRunStatus.Active)
        {
            await FinishStepAsync(run, target, def, CheckOutcome.Fail($"The run was {run.Status.ToString().ToLowerInvariant()} before this step started. Nothing was run."), actor);
            return;
        }

        await MarkRunningAsync(runId, stepKey);
        var outcome = await RunActionAndCheckAsync(Context(run, target, actor, stepKey), def, ct);
        await FinishStepAsync(run, target, def, outcome, actor);
    }

    /// <summary>Marks a step that has no possible check as done, recording who did.</summary>
    public async Task MarkDoneAsync(Actor actor, Guid runId, string stepKey, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: {stepKey}", ct);
        var (run, target, def, _) = await OpenStepAsync(runId, stepKey, ct);
        if (!def.IsManual)
        {
            throw new RecoveryRefusedException($"\"{def.Title}\" has a check: run it. Only steps the console cannot check can be marked done by hand.");
        }

        var now = time.GetUtcNow();
        string? completed;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var rows = await db.Set<RecoveryStepState>()
                .Where(s => s.RunId == runId && s.Key == stepKey && (s.Status == RecoveryStepStatus.Pending || s.Status == RecoveryStepStatus.Failed))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.Status, RecoveryStepStatus.Passed)
                    .SetProperty(x => x.MarkedDoneByHand, true)
                    .SetProperty(x => x.StartedAt, now)
                    .SetProperty(x => x.CompletedAt, now)
                    .SetProperty(x => x.CompletedBy, actor.Name)
                    .SetProperty(x => x.RequestedBy, actor.Name)
                    .SetProperty(x => x.RequestedByUserId, actor.UserId)
                    .SetProperty(x => x.Message, $"Marked done by {actor.Name}."), ct);
            if (rows == 0)
            {
                throw new RecoveryRefusedException($"\"{def.Title}\" was already marked done. Nothing changed.");
            }

            db.Add(LogLine(runId, stepKey, RecoveryLogLevel.Info, $"Marked done by hand by {actor.Name}."));
            await db.SaveChangesAsync(ct);
            completed = await CompleteIfDoneAsync(db, runId, actor);
            await tx.CommitAsync(ct);
        }

        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {def.Title}", AuditOutcome.Succeeded, $"run {runId}: marked done by hand", ct);
        await AuditCompletionAsync(run, target, actor, completed);
        notifier.Publish(runId);
    }

    /// <summary>Stops a run before its end. A drill's scratch database is dropped.</summary>
    public async Task AbandonAsync(Actor actor, Guid runId, string? reason, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: abandon", ct);
        var (run, target) = await LoadRunAsync(runId, ct);
        var why = string.IsNullOrWhiteSpace(reason) ? $"Abandoned by {actor.Name}." : $"Abandoned by {actor.Name}: {reason.Trim()}";
        if (why.Length > 1000)
        {
            why = why[..1000];
        }

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var rows = await db.Set<RecoveryRun>().Where(r => r.Id == runId && r.Status == RecoveryRunStatus.Active)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, RecoveryRunStatus.Abandoned)
                    .SetProperty(r => r.EndedAt, time.GetUtcNow())
                    .SetProperty(r => r.EndedBy, actor.Name)
                    .SetProperty(r => r.EndReason, why), ct);
            if (rows == 0)
            {
                throw new RecoveryRefusedException($"This run is already {run.Status.ToString().ToLowerInvariant()}. Nothing changed.");
            }
        }

        if (run.Scenario == RecoveryScenario.Drill)
        {
            await DropScratchQuietlyAsync(run);
        }

        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {RecoveryScenarios.Info(run.Scenario).Title}", AuditOutcome.Succeeded, $"run {runId}: {why}", ct);
        notifier.Publish(runId);
    }

    /// <summary>The new HELLOJOHN_DATABASE_URL with its password, for the copy button only. Audited without the value.</summary>
    public async Task<string> RevealNewDatabaseUrlAsync(Actor actor, Guid runId, CancellationToken ct)
    {
        await DemandAsync(actor, ConsolePermission.RunRecoveryWizard, AuditActions.RecoveryStep, $"run {runId}: copy database URL", ct);
        var (run, target) = await LoadRunAsync(runId, ct);
        var connection = vault.Unprotect(run) ?? throw new RecoveryRefusedException("This run has no new database connection yet. Nothing was copied.");
        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: new HELLOJOHN_DATABASE_URL", AuditOutcome.Succeeded,
            $"run {runId}: {actor.Name} copied the URL of {connection.Describe()}", ct);
        return connection.ToUrl(includePassword: true);
    }

    public async Task<RecoveryRunView?> GetAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Set<RecoveryRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null)
        {
            return null;
        }

        var target = await targets.GetAsync(run.TargetId, ct);
        var states = await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Position).ToListAsync(ct);
        var log = await db.Set<RecoveryLogLine>().AsNoTracking().Where(l => l.RunId == runId).OrderByDescending(l => l.Id).Take(MaxLogLinesShown)
            .Select(l => new RecoveryLogView(l.Id, l.StepKey, l.At, l.Level, l.Text)).ToListAsync(ct);
        log.Reverse();
        string? masked = null;
        if (vault.Unprotect(run) is { } connection)
        {
            masked = RecoveryConnectionVault.Masked(connection);
        }

        var defs = RecoveryScenarios.StepsOf(run.Scenario).ToDictionary(d => d.Key);
        var current = run.Status == RecoveryRunStatus.Active ? states.FirstOrDefault(s => s.Status != RecoveryStepStatus.Passed)?.Key : null;
        var instructionContext = new RecoveryInstructionContext(run, target, masked);
        var steps = states.Where(s => defs.ContainsKey(s.Key)).Select(s =>
        {
            var d = defs[s.Key];
            return new RecoveryStepView(s.Position, s.Key, d.Title, s.Status, s.Key == current, d.IsManual, d.RunsAsJob, d.ActionLabel, d.ManualReason, d.ExtraPermission,
                d.Instructions(instructionContext), d.Inputs, s.Message, s.StartedAt, s.CompletedAt, s.CompletedBy, s.MarkedDoneByHand, s.Attempts);
        }).ToList();
        return new RecoveryRunView(Summary(run, target.Name, states.Count(s => s.Status == RecoveryStepStatus.Passed), states.Count), steps, log, masked,
            run.NewServerVersion, HealthProbe.UrlOf(run, target), run.SigningKeyFingerprint, run.PointInTimeTarget, run.PointInTimeZone, run.ScratchDatabase);
    }

    public async Task<RecoveryRunPage> ListAsync(RecoveryRunQuery query, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<RecoveryRun>().AsNoTracking();
        if (query.TargetId is { } t)
        {
            q = q.Where(r => r.TargetId == t);
        }

        if (query.Scenario is { } s)
        {
            q = q.Where(r => r.Scenario == s);
        }

        var total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(r => r.StartedAt).Skip(query.Page * query.PageSize).Take(query.PageSize)
            .Select(r => new
            {
                Run = r,
                TargetName = r.Target!.Name,
                Passed = db.Set<RecoveryStepState>().Count(x => x.RunId == r.Id && x.Status == RecoveryStepStatus.Passed),
                Count = db.Set<RecoveryStepState>().Count(x => x.RunId == r.Id),
            }).ToListAsync(ct);
        return new RecoveryRunPage([.. rows.Select(r => Summary(r.Run, r.TargetName, r.Passed, r.Count))], total);
    }

    /// <summary>The active run of a scenario for a target, to resume; null when there is none.</summary>
    public async Task<Guid?> FindActiveAsync(Guid targetId, RecoveryScenario scenario, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<RecoveryRun>().AsNoTracking()
            .Where(r => r.TargetId == targetId && r.Scenario == scenario && r.Status == RecoveryRunStatus.Active)
            .Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
    }

    /// <summary>The newest finished drill (completed or failed), of one target or of any.</summary>
    public async Task<LastDrill?> GetLastDrillAsync(Guid? targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<RecoveryRun>().AsNoTracking()
            .Where(r => r.Scenario == RecoveryScenario.Drill && (r.Status == RecoveryRunStatus.Completed || r.Status == RecoveryRunStatus.Failed));
        if (targetId is { } t)
        {
            q = q.Where(r => r.TargetId == t);
        }

        return await q.OrderByDescending(r => r.EndedAt)
            .Select(r => new LastDrill(r.Id, r.TargetId, r.Target!.Name, r.StartedAt, r.EndedAt, r.Status, r.Rto, r.Rpo, r.BackupFileName, r.EndReason))
            .FirstOrDefaultAsync(ct);
    }

    public async Task<IReadOnlyList<BackupCandidate>> GetBackupCandidatesAsync(Guid runId, CancellationToken ct)
    {
        var (run, _) = await LoadRunAsync(runId, ct);
        return await CandidatesAsync(run, ct);
    }

    internal async Task<IReadOnlyList<BackupCandidate>> CandidatesAsync(RecoveryRun run, CancellationToken ct)
    {
        List<BackupRecord> backups;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backups = await db.Backups.AsNoTracking()
                .Where(b => b.TargetId == run.TargetId && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored) && b.StartedAt != null)
                .OrderByDescending(b => b.StartedAt).Take(30).ToListAsync(ct);
        }

        var verified = await VerifiedAsync(run.TargetId, ct);
        var (incident, _) = await IncidentAsync(run, ct);
        var pick = backups.FirstOrDefault(b => verified.ContainsKey(b.Id)) ?? backups.FirstOrDefault();
        return [.. backups.Select(b => new BackupCandidate(b.Id, b.FileName, b.StartedAt!.Value, verified.TryGetValue(b.Id, out var v) ? v : null,
            b.ServerVersion, b.SizeBytes, incident - b.StartedAt!.Value, b.Id == pick?.Id))];
    }

    internal async Task<DateTimeOffset?> VerifiedAtAsync(Guid targetId, Guid backupId, CancellationToken ct) =>
        (await VerifiedAsync(targetId, ct)).TryGetValue(backupId, out var at) ? at : null;

    private async Task<IReadOnlyDictionary<Guid, DateTimeOffset>> VerifiedAsync(Guid targetId, CancellationToken ct)
    {
        // Provided by the verification feature; without it no backup counts as verified.
        await using var scope = services.CreateAsyncScope();
        var history = scope.ServiceProvider.GetService<IBackupVerificationHistory>();
        return history is null ? new Dictionary<Guid, DateTimeOffset>() : await history.LastPassesAsync(targetId, ct);
    }

    /// <summary>When the data stopped: as entered; else the first backup after the restored one that could not reach
    /// the database; else the start of the run (an upper bound, so the RPO shown is never better than the truth).</summary>
    internal async Task<(DateTimeOffset At, IncidentTimeSource Source)> IncidentAsync(RecoveryRun run, CancellationToken ct)
    {
        if (run.IncidentAt is { } entered && run.IncidentSource is { } source)
        {
            return (entered, source);
        }

        var after = run.RecoveryPointAt ?? DateTimeOffset.MinValue;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var firstFailed = await db.Backups.AsNoTracking()
            .Where(b => b.TargetId == run.TargetId && b.Status == BackupStatus.Failed && b.CreatedAt > after && b.CreatedAt <= run.StartedAt
                && b.Error != null && b.Error.StartsWith("Could not reach"))
            .OrderBy(b => b.CreatedAt).Select(b => (DateTimeOffset?)b.CreatedAt).FirstOrDefaultAsync(ct);
        return firstFailed is { } f ? (f, IncidentTimeSource.FirstFailedBackup) : (run.StartedAt, IncidentTimeSource.RunStart);
    }

    /// <summary>Runs a drill from its first open step to the end, as one job. A failed step ends the drill as failed,
    /// and the scratch database is dropped whatever happened.</summary>
    public async Task RunDrillAsync(Guid runId, CancellationToken ct)
    {
        var (run, target) = await LoadRunAsync(runId, ct);
        if (run.Scenario != RecoveryScenario.Drill || run.Status != RecoveryRunStatus.Active)
        {
            return;
        }

        var actor = new Actor(run.StartedByUserId, run.StartedBy, [ConsoleRoles.Operator]);
        foreach (var def in RecoveryScenarios.StepsOf(run.Scenario))
        {
            RecoveryStepState state;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                state = await db.Set<RecoveryStepState>().AsNoTracking().FirstAsync(s => s.RunId == runId && s.Key == def.Key, ct);
            }

            if (state.Status == RecoveryStepStatus.Passed)
            {
                continue;
            }

            if (!await ClaimAsync(runId, def.Key, RecoveryStepStatus.Running, actor, ct))
            {
                return;
            }

            await MarkRunningAsync(runId, def.Key);
            var outcome = await RunActionAndCheckAsync(Context(run, target, actor, def.Key), def, ct);
            await FinishStepAsync(run, target, def, outcome, actor);
            if (!outcome.Passed)
            {
                await DropScratchQuietlyAsync(run);
                await EndRunAsync(run.Id, RecoveryRunStatus.Failed, actor.Name, $"The drill failed at \"{def.Title}\": {outcome.Message}");
                await notices.DrillFinishedAsync(run.Id);
                await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: Drill", AuditOutcome.Failed, $"run {runId}: failed at {def.Title}", CancellationToken.None);
                notifier.Publish(runId);
                return;
            }
        }
    }

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

        await RunDrillAsync(runId, ct);
    }

    /// <summary>At start: steps whose console process died while they ran are marked failed (they can be run again);
    /// a drill caught that way fails and its scratch database is dropped.</summary>
    public async Task<int> FailInterruptedStepsAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var running = await db.Set<RecoveryStepState>().Where(s => s.Status == RecoveryStepStatus.Running).ToListAsync(ct);
        var failed = 0;
        var orphaned = running.Where(s => s.RunnerHost == Environment.MachineName && s.RunnerPid is { } pid &&
            (pid == Environment.ProcessId ? !RunningHere.ContainsKey((s.RunId, s.Key)) : !ProcessAlive(pid))).ToList();
        foreach (var s in orphaned)
        {
            s.Status = RecoveryStepStatus.Failed;
            s.Message = "The console stopped while this step ran, so it did not finish. Run it again.";
            s.RunnerHost = null;
            s.RunnerPid = null;
            failed++;
        }

        await db.SaveChangesAsync(ct);
        foreach (var runId in running.Where(s => s.Status == RecoveryStepStatus.Failed).Select(s => s.RunId).Distinct())
        {
            var (run, _) = await LoadRunAsync(runId, ct);
            if (run.Scenario == RecoveryScenario.Drill && run.Status == RecoveryRunStatus.Active)
            {
                await DropScratchQuietlyAsync(run);
                await EndRunAsync(run.Id, RecoveryRunStatus.Failed, "system", "The console stopped while the drill ran. Its scratch database was dropped; start a new drill.");
            }
        }

        return failed;
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private async Task<(RecoveryRun Run, TargetSummary Target, RecoveryStepDefinition Def, RecoveryStepState State)> OpenStepAsync(Guid runId, string stepKey, CancellationToken ct)
    {
        var (run, target) = await LoadRunAsync(runId, ct);
        if (run.Status != RecoveryRunStatus.Active)
        {
            throw new RecoveryRefusedException($"This run is {run.Status.ToString().ToLowerInvariant()}; nothing more can be done in it. Start a new run.");
        }

        var defs = RecoveryScenarios.StepsOf(run.Scenario);
        var def = defs.FirstOrDefault(d => d.Key == stepKey) ?? throw new RecoveryRefusedException($"This wizard has no step '{stepKey}'. Nothing was run.");
        List<RecoveryStepState> states;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            states = await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Position).ToListAsync(ct);
        }

        var state = states.First(s => s.Key == stepKey);
        var blocking = states.FirstOrDefault(s => s.Position < state.Position && s.Status != RecoveryStepStatus.Passed);
        if (blocking is not null)
        {
            var title = defs.First(d => d.Key == blocking.Key).Title;
            throw new RecoveryRefusedException($"Step {state.Position} \"{def.Title}\" opens once step {blocking.Position} \"{title}\" has passed. Nothing was run.");
        }

        return (run, target, def, state);
    }

    private async Task<(RecoveryRun Run, TargetSummary Target)> LoadRunAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Set<RecoveryRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new RecoveryRefusedException($"There is no recovery run {runId}. Open the Recovery page to see the runs.");
        return (run, await targets.GetAsync(run.TargetId, ct));
    }

    private async Task<bool> ClaimAsync(Guid runId, string stepKey, RecoveryStepStatus to, Actor actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // A conditional update: of two engineers pressing the same button, exactly one wins.
        var rows = await db.Set<RecoveryStepState>()
            .Where(s => s.RunId == runId && s.Key == stepKey && (s.Status == RecoveryStepStatus.Pending || s.Status == RecoveryStepStatus.Failed))
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, to)
                .SetProperty(x => x.RequestedBy, actor.Name)
                .SetProperty(x => x.RequestedByUserId, actor.UserId)
                .SetProperty(x => x.StartedAt, now)
                .SetProperty(x => x.CompletedAt, (DateTimeOffset?)null)
                .SetProperty(x => x.Message, (string?)null), ct);
        if (rows > 0)
        {
            notifier.Publish(runId);
        }

        return rows > 0;
    }

    private async Task MarkRunningAsync(Guid runId, string stepKey)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Set<RecoveryStepState>().Where(s => s.RunId == runId && s.Key == stepKey)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, RecoveryStepStatus.Running)
                .SetProperty(x => x.Attempts, x => x.Attempts + 1)
                .SetProperty(x => x.RunnerHost, Environment.MachineName)
                .SetProperty(x => x.RunnerPid, Environment.ProcessId), CancellationToken.None);
        notifier.Publish(runId);
    }

    private RecoveryStepContext Context(RecoveryRun run, TargetSummary target, Actor actor, string stepKey) =>
        new(run, target, actor, services, vault, (level, text) => AppendLogAsync(run.Id, stepKey, level, text));

    /// <summary>A job acts for the person who pressed the button, with the role the step needed when they pressed it.</summary>
    private static Actor ActorFor(RecoveryStepState state, RecoveryStepDefinition def)
    {
        var role = def.ExtraPermission is { } p && !ConsolePermissions.RoleHas(ConsoleRoles.Operator, p) ? ConsoleRoles.Admin : ConsoleRoles.Operator;
        return new Actor(state.RequestedByUserId, state.RequestedBy ?? "system", [role]);
    }

    private async Task<CheckOutcome> RunActionAndCheckAsync(RecoveryStepContext ctx, RecoveryStepDefinition def, CancellationToken ct)
    {
        RunningHere[(ctx.Run.Id, def.Key)] = 0;
        try
        {
            if (def.Action is not null)
            {
                await def.Action(ctx, ct);
                await SaveRunAsync(ctx.Run);
            }

            var outcome = await def.Check!(ctx, ct);
            return outcome;
        }
        catch (Exception e) when (e is RecoveryStepFailedException or RecoveryInputException or PermissionDeniedException)
        {
            return CheckOutcome.Fail(e.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return CheckOutcome.Fail("Stopped before it finished: the console shut down or the job was cancelled. Run it again.");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            var where = vault.Unprotect(ctx.Run) is { } c ? c : null;
            return CheckOutcome.Fail(where is null ? $"The database could not be reached: {e.Message}" : NewServerProbe.Describe(e, where));
        }
        catch (Exception e)
        {
            logger.LogError(e, "Recovery step {Step} of run {RunId} failed unexpectedly", def.Key, ctx.Run.Id);
            return CheckOutcome.Fail($"The step failed unexpectedly ({e.GetType().Name}: {e.Message}). Run it again; if it fails again, the console's log has the details.");
        }
        finally
        {
            // What the step learned (a chosen backup, a restore that wrote) is kept even when it failed.
            await SaveRunAsync(ctx.Run);
            RunningHere.TryRemove((ctx.Run.Id, def.Key), out _);
        }
    }

    private async Task FinishStepAsync(RecoveryRun run, TargetSummary target, RecoveryStepDefinition def, CheckOutcome outcome, Actor actor)
    {
        var now = time.GetUtcNow();
        var message = outcome.Message.Length > 4000 ? outcome.Message[..3997] + "..." : outcome.Message;
        string? completed;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            // The last step passing and the run completing are one change: nobody sees one without the other.
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            await db.Set<RecoveryStepState>().Where(s => s.RunId == run.Id && s.Key == def.Key)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.Status, outcome.Passed ? RecoveryStepStatus.Passed : RecoveryStepStatus.Failed)
                    .SetProperty(x => x.CompletedAt, outcome.Passed ? now : null)
                    .SetProperty(x => x.CompletedBy, outcome.Passed ? actor.Name : null)
                    .SetProperty(x => x.CheckedAt, now)
                    .SetProperty(x => x.Message, message)
                    .SetProperty(x => x.RunnerHost, (string?)null)
                    .SetProperty(x => x.RunnerPid, (int?)null), CancellationToken.None);
            db.Add(LogLine(run.Id, def.Key, outcome.Passed ? RecoveryLogLevel.Info : RecoveryLogLevel.Error, (outcome.Passed ? "Check passed: " : "Check failed: ") + message));
            await db.SaveChangesAsync(CancellationToken.None);
            completed = outcome.Passed ? await CompleteIfDoneAsync(db, run.Id, actor) : null;
            await tx.CommitAsync(CancellationToken.None);
        }

        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {def.Title}", outcome.Passed ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            $"run {run.Id}: {(message.Length > 1500 ? message[..1500] : message)}", CancellationToken.None);
        RecoveryLog.StepEnded(logger, run.Id, run.Scenario, def.Key, outcome.Passed ? "passed" : "failed");
        await AuditCompletionAsync(run, target, actor, completed);
        notifier.Publish(run.Id);
    }

    private async Task AuditCompletionAsync(RecoveryRun run, TargetSummary target, Actor actor, string? completed)
    {
        if (completed is null)
        {
            return;
        }

        await audit.RecordAsync(actor, AuditActions.RecoveryStep, $"{target.Name}: {RecoveryScenarios.Info(run.Scenario).Title}", AuditOutcome.Succeeded,
            $"run {run.Id} completed: {completed}", CancellationToken.None);
        logger.LogInformation("Recovery run {RunId} ({Scenario}) of {Target} completed: {Summary}", run.Id, run.Scenario, target.Name, completed);
        await notices.DrillFinishedAsync(run.Id);
    }

    /// <summary>Completes the run in <paramref name="db"/>'s transaction when every step has passed: measures RPO and
    /// RTO. Returns their summary, or null when the run goes on.</summary>
    private async Task<string?> CompleteIfDoneAsync(ConsoleDbContext db, Guid runId, Actor actor)
    {
        var run = await db.Set<RecoveryRun>().AsNoTracking().FirstAsync(r => r.Id == runId, CancellationToken.None);
        var states = await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == runId).ToListAsync(CancellationToken.None);
        if (run.Status != RecoveryRunStatus.Active || states.Any(s => s.Status != RecoveryStepStatus.Passed))
        {
            return null;
        }

        var defs = RecoveryScenarios.StepsOf(run.Scenario).ToDictionary(d => d.Key);
        var recovered = states.Where(s => defs.TryGetValue(s.Key, out var d) && d.CountsForRto).Max(s => s.CompletedAt) ?? time.GetUtcNow();
        var (incident, source) = await IncidentAsync(run, CancellationToken.None);
        // Losing the signing key loses sessions, not data: the data is recovered up to the incident itself.
        var point = run.Scenario == RecoveryScenario.SigningKeyLost ? incident : run.RecoveryPointAt;
        var rpo = point is { } p ? (incident - p < TimeSpan.Zero ? TimeSpan.Zero : incident - p) : (TimeSpan?)null;
        var rto = recovered - run.StartedAt;
        var rows = await db.Set<RecoveryRun>().Where(r => r.Id == runId && r.Status == RecoveryRunStatus.Active)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RecoveryRunStatus.Completed)
                .SetProperty(r => r.EndedAt, time.GetUtcNow())
                .SetProperty(r => r.EndedBy, actor.Name)
                .SetProperty(r => r.IncidentAt, incident)
                .SetProperty(r => r.IncidentSource, source)
                .SetProperty(r => r.RecoveryPointAt, point)
                .SetProperty(r => r.Rpo, rpo)
                .SetProperty(r => r.Rto, rto), CancellationToken.None);
        if (rows == 0)
        {
            return null;
        }

        var summary = $"RPO {RecoveryDurations.Describe(rpo)} ({RecoveryDurations.Describe(source)}), RTO {RecoveryDurations.Describe(rto)}";
        db.Add(LogLine(runId, states.OrderBy(s => s.Position).Last().Key, RecoveryLogLevel.Info, $"Recovery complete: {summary}."));
        await db.SaveChangesAsync(CancellationToken.None);
        return summary;
    }

    private async Task EndRunAsync(Guid runId, RecoveryRunStatus status, string by, string reason)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Set<RecoveryRun>().Where(r => r.Id == runId && r.Status == RecoveryRunStatus.Active)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, status)
                .SetProperty(r => r.EndedAt, time.GetUtcNow())
                .SetProperty(r => r.EndedBy, by)
                .SetProperty(r => r.EndReason, reason.Length > 1000 ? reason[..1000] : reason), CancellationToken.None);
    }

    private async Task DropScratchQuietlyAsync(RecoveryRun run)
    {
        // Clean-up runs even when the drill was cancelled, with a bound of its own.
        using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            var (fresh, _) = await LoadRunAsync(run.Id, cleanup.Token);
            if (await DrillSteps.DropAsync(services, run.TargetId, fresh.ScratchDatabase, cleanup.Token))
            {
                await AppendLogAsync(run.Id, DrillSteps.DropKey, RecoveryLogLevel.Info, $"Dropped the scratch database {fresh.ScratchDatabase}.");
            }
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            await AppendLogAsync(run.Id, DrillSteps.DropKey, RecoveryLogLevel.Error, $"Could not drop the scratch database: {e.Message}. Drop it by hand.");
        }
    }

    private async Task SaveRunAsync(RecoveryRun run)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var entry = db.Entry(run);
        entry.State = EntityState.Modified;
        // Lifecycle columns belong to start, completion and abandon, which may happen while a step's job runs.
        entry.Property(r => r.Status).IsModified = false;
        entry.Property(r => r.EndedAt).IsModified = false;
        entry.Property(r => r.EndedBy).IsModified = false;
        entry.Property(r => r.EndReason).IsModified = false;
        entry.Property(r => r.Rpo).IsModified = false;
        entry.Property(r => r.Rto).IsModified = false;
        entry.Property(r => r.StartedAt).IsModified = false;
        entry.Property(r => r.StartedBy).IsModified = false;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private async Task AppendLogAsync(Guid runId, string stepKey, RecoveryLogLevel level, string text)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Add(LogLine(runId, stepKey, level, text));
        await db.SaveChangesAsync(CancellationToken.None);
        notifier.Publish(runId);
    }

    private RecoveryLogLine LogLine(Guid runId, string stepKey, RecoveryLogLevel level, string text) =>
        new() { RunId = runId, StepKey = stepKey, At = time.GetUtcNow(), Level = level, Text = text.Length > 4000 ? text[..3997] + "..." : text };

    private async Task DemandAsync(Actor actor, ConsolePermission permission, string action, string target, CancellationToken ct)
    {
        if (!actor.Has(permission))
        {
            await audit.RecordAsync(actor, action, target, AuditOutcome.Denied, $"needs {permission}", ct);
            actor.Demand(permission);
        }
    }

    private static RecoveryRunSummary Summary(RecoveryRun r, string targetName, int passed, int count) => new(
        r.Id, r.Scenario, RecoveryScenarios.Info(r.Scenario).Title, r.TargetId, targetName, r.Provider, r.Status, r.StartedBy, r.StartedAt, r.EndedAt, r.EndReason,
        r.IncidentAt, r.IncidentSource, r.BackupFileName, r.RecoveryPointAt, r.Rpo, r.Rto, passed, count);
}
