using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Where recovery runs live: the run, its steps' states and their log, in the console database, so a run
/// can be resumed from another browser or another console instance. Every change of a step's state is a conditional
/// update: of two engineers pressing the same button, exactly one wins.</summary>
public sealed class RecoveryRunStore(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    RunProgressNotifier notifier,
    TimeProvider time,
    ILogger<RecoveryRunStore> logger)
{
    /// <summary>Saves a new run with its steps and its lifecycle run; throws <see cref="RecoveryRefusedException"/>
    /// naming the run to resume when the same scenario is already active for the target.</summary>
    public async Task CreateAsync(RecoveryRun run, RunRecord lifecycle, TargetSummary target, CancellationToken ct)
    {
        var info = RecoveryScenarios.Info(run.Scenario);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var existing = await ActiveAsync(db, target.Id, run.Scenario, ct);
        if (existing is not null)
        {
            throw AlreadyActive(info, target, existing);
        }

        db.AddRange(lifecycle, run);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another engineer started the same scenario a moment ago (on this or another console instance).
            await using var again = await dbFactory.CreateDbContextAsync(ct);
            throw AlreadyActive(info, target, (await ActiveAsync(again, target.Id, run.Scenario, ct))!);
        }
    }

    private static Task<RecoveryRun?> ActiveAsync(ConsoleDbContext db, Guid targetId, RecoveryScenario scenario, CancellationToken ct) =>
        db.Set<RecoveryRun>().AsNoTracking().Where(r => r.TargetId == targetId && r.Scenario == scenario && r.Status == RecoveryRunStatus.Active).FirstOrDefaultAsync(ct);

    private static RecoveryRefusedException AlreadyActive(RecoveryScenarioInfo info, TargetSummary target, RecoveryRun other) =>
        new($"A \"{info.Title}\" run for '{target.Name}' is already in progress (started by {other.StartedBy} at {other.StartedAt:u}). Resume it at /recovery/{other.Id}, or abandon it first. Nothing was started.")
        {
            ExistingRunId = other.Id,
        };

    public async Task<(RecoveryRun Run, TargetSummary Target)> LoadAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Set<RecoveryRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new RecoveryRefusedException($"There is no recovery run {runId}. Open the Recovery page to see the runs.");
        return (run, await targets.GetAsync(run.TargetId, ct));
    }

    public async Task<List<RecoveryStepState>> StatesAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Position).ToListAsync(ct);
    }

    /// <summary>Claims a pending or failed step for <paramref name="actor"/>; false when it is already running or passed.</summary>
    internal async Task<bool> ClaimStepAsync(Guid runId, string stepKey, RecoveryStepStatus to, Actor actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
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
            Publish(runId, stepKey);
        }

        return rows > 0;
    }

    public async Task SetStepJobAsync(Guid runId, string stepKey, string jobId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<RecoveryStepState>().Where(s => s.RunId == runId && s.Key == stepKey).ExecuteUpdateAsync(s => s.SetProperty(x => x.JobId, jobId), ct);
    }

    public async Task MarkRunningAsync(Guid runId, string stepKey)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Set<RecoveryStepState>().Where(s => s.RunId == runId && s.Key == stepKey)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, RecoveryStepStatus.Running)
                .SetProperty(x => x.Attempts, x => x.Attempts + 1), CancellationToken.None);
        Publish(runId, stepKey);
    }

    /// <summary>Records a step's outcome and its log line in <paramref name="db"/> (the caller's transaction).</summary>
    internal async Task RecordStepAsync(ConsoleDbContext db, Guid runId, string stepKey, CheckOutcome outcome, Actor actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var message = Clip(outcome.Message);
        await db.Set<RecoveryStepState>().Where(s => s.RunId == runId && s.Key == stepKey)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, outcome.Passed ? RecoveryStepStatus.Passed : RecoveryStepStatus.Failed)
                .SetProperty(x => x.CompletedAt, outcome.Passed ? now : null)
                .SetProperty(x => x.CompletedBy, outcome.Passed ? actor.Name : null)
                .SetProperty(x => x.CheckedAt, now)
                .SetProperty(x => x.Message, message), ct);
        db.Add(LogLine(runId, stepKey, outcome.Passed ? RecoveryLogLevel.Info : RecoveryLogLevel.Error, (outcome.Passed ? "Check passed: " : "Check failed: ") + message));
        await db.SaveChangesAsync(ct);
    }

    internal async Task RecordStepInOwnChangeAsync(Guid runId, string stepKey, CheckOutcome outcome, Actor actor)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await RecordStepAsync(db, runId, stepKey, outcome, actor, CancellationToken.None);
    }

    internal async Task RecordDoneByHandInOwnChangeAsync(Guid runId, string stepKey, string title, Actor actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await RecordDoneByHandAsync(db, runId, stepKey, actor, ct))
        {
            throw new RecoveryRefusedException($"\"{title}\" was already marked done. Nothing changed.");
        }
    }

    /// <summary>Marks a manual step done in <paramref name="db"/>; false when it already was.</summary>
    internal async Task<bool> RecordDoneByHandAsync(ConsoleDbContext db, Guid runId, string stepKey, Actor actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
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
        if (rows > 0)
        {
            db.Add(LogLine(runId, stepKey, RecoveryLogLevel.Info, $"Marked done by hand by {actor.Name}."));
            await db.SaveChangesAsync(ct);
        }

        return rows > 0;
    }

    /// <summary>Records the run's completion with its measured RPO and RTO in <paramref name="db"/>.</summary>
    internal async Task RecordCompletionAsync(ConsoleDbContext db, RecoveryRun run, RecoveryMeasurement measured, string lastStepKey, Actor actor, CancellationToken ct)
    {
        await db.Set<RecoveryRun>().Where(r => r.Id == run.Id && r.Status == RecoveryRunStatus.Active)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RecoveryRunStatus.Completed)
                .SetProperty(r => r.EndedAt, time.GetUtcNow())
                .SetProperty(r => r.EndedBy, actor.Name)
                .SetProperty(r => r.IncidentAt, measured.IncidentAt)
                .SetProperty(r => r.IncidentSource, measured.Source)
                .SetProperty(r => r.RecoveryPointAt, measured.RecoveryPointAt)
                .SetProperty(r => r.Rpo, measured.Rpo)
                .SetProperty(r => r.Rto, measured.Rto), ct);
        db.Add(LogLine(run.Id, lastStepKey, RecoveryLogLevel.Info, $"Recovery complete: {measured.Summary}."));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Records how an ended run ended (abandoned, a failed drill) in <paramref name="db"/>, if it was active.</summary>
    public static Task<int> RecordEndAsync(ConsoleDbContext db, Guid runId, RecoveryRunStatus status, DateTimeOffset at, string by, string reason, CancellationToken ct) =>
        db.Set<RecoveryRun>().Where(r => r.Id == runId && r.Status == RecoveryRunStatus.Active)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, status)
                .SetProperty(r => r.EndedAt, at)
                .SetProperty(r => r.EndedBy, by)
                .SetProperty(r => r.EndReason, reason.Length > 1000 ? reason[..1000] : reason), ct);

    /// <summary>Keeps what a step learned on the run; the lifecycle columns belong to start, completion and abandon.</summary>
    public async Task SaveRunAsync(RecoveryRun run)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var entry = db.Entry(run);
        entry.State = EntityState.Modified;
        foreach (var lifecycle in new[] { nameof(RecoveryRun.Status), nameof(RecoveryRun.EndedAt), nameof(RecoveryRun.EndedBy), nameof(RecoveryRun.EndReason),
                     nameof(RecoveryRun.Rpo), nameof(RecoveryRun.Rto), nameof(RecoveryRun.StartedAt), nameof(RecoveryRun.StartedBy) })
        {
            entry.Property(lifecycle).IsModified = false;
        }

        await db.SaveChangesAsync(CancellationToken.None);
    }

    public async Task AppendLogAsync(Guid runId, string stepKey, RecoveryLogLevel level, string text)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Add(LogLine(runId, stepKey, level, text));
        await db.SaveChangesAsync(CancellationToken.None);
        Publish(runId, stepKey);
    }

    /// <summary>Fails the steps a dead console instance was running (they can be run again); returns their keys.</summary>
    public async Task<IReadOnlyList<string>> FailInterruptedStepsAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var running = await db.Set<RecoveryStepState>().Where(s => s.RunId == runId && s.Status == RecoveryStepStatus.Running).Select(s => s.Key).ToListAsync(ct);
        foreach (var key in running)
        {
            await db.Set<RecoveryStepState>().Where(s => s.RunId == runId && s.Key == key && s.Status == RecoveryStepStatus.Running)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.Status, RecoveryStepStatus.Failed)
                    .SetProperty(x => x.Message, "The console stopped while this step ran, so it did not finish. Run it again."), ct);
            db.Add(LogLine(runId, key, RecoveryLogLevel.Error, "The console instance running this step stopped before it finished. Run it again."));
            logger.LogWarning("Recovery step {Step} of run {RunId} was interrupted by a console instance that stopped", key, runId);
        }

        await db.SaveChangesAsync(ct);
        return running;
    }

    public RecoveryLogLine LogLine(Guid runId, string stepKey, RecoveryLogLevel level, string text) =>
        new() { RunId = runId, StepKey = stepKey, At = time.GetUtcNow(), Level = level, Text = Clip(text) };

    public void Publish(Guid runId, string? phase) => notifier.Publish(new RunProgress(RunKind.Recovery, runId, RunStatus.Running, phase));

    private static string Clip(string text) => text.Length > 4000 ? text[..3997] + "..." : text;
}
