using System.Linq.Expressions;
using Hangfire;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Runs;

/// <summary>How a run ends: its status, why (for people and as data), what the audit trail says and the kind's account.</summary>
public sealed record RunEnd(RunStatus Status, string? Error = null, RunFailureKind? FailureKind = null)
{
    /// <summary>Audit detail; with the kind's <see cref="IRunKind.FinishedAuditAction"/> it is recorded for the requester.</summary>
    public string? AuditDetail { get; init; }

    public RunSummary? Summary { get; init; }

    /// <summary>The kind's own record of the end (a backup's file, sizes and counts), written in the same transaction
    /// as the run's end, so neither is ever seen without the other.</summary>
    public Func<ConsoleDbContext, CancellationToken, Task>? Record { get; init; }

    /// <summary>The phase the run is left in; "Done" unless the kind says otherwise.</summary>
    public string Phase { get; init; } = DonePhase;

    public const string DonePhase = "Done";

    public static RunEnd Succeeded(string? auditDetail = null, RunSummary? summary = null) =>
        new(RunStatus.Succeeded) { AuditDetail = auditDetail, Summary = summary };
}

/// <summary>The one lifecycle every kind of run goes through: queued (a Hangfire job), claimed by the instance that
/// executes it (only if still queued), phases and progress, and one end, recorded with its audit record, told to every
/// page and to every <see cref="IRunFinishedHandler"/>. Cancelling (<see cref="RunCancellation"/>) and the abandoned-run
/// sweep (<see cref="RunSweeper"/>) end runs through the same <see cref="EndAsync"/>.</summary>
public sealed class RunLifecycle(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    ConsoleInstance instance,
    IBackgroundJobClient jobs,
    RunKinds kinds,
    RunEndRecorder ends,
    RunProgressNotifier notifier,
    TimeProvider time,
    ILogger<RunLifecycle> logger)
{
    internal LocalRuns Local { get; } = new();

    /// <summary>A new queued run, for the caller to add beside its kind's own record and save with it.</summary>
    internal RunRecord NewRun(RunKind kind, Guid? targetId, Actor requestedBy, string? phase = "Queued") => new()
    {
        Id = Guid.NewGuid(),
        Kind = kind,
        TargetId = targetId,
        Status = RunStatus.Queued,
        Phase = phase,
        RequestedBy = requestedBy.Name,
        RequestedByUserId = requestedBy.UserId,
        CreatedAt = time.GetUtcNow(),
    };

    /// <summary>Tells pages that a run was queued (after the caller saved it).</summary>
    public void Queued(RunRecord run) => notifier.Publish(new RunProgress(run.Kind, run.Id, RunStatus.Queued, run.Phase));

    /// <summary>Queues the job that executes <paramref name="runId"/> and records its id on the run.</summary>
    public async Task<string> EnqueueAsync<TJob>(Guid runId, Expression<Func<TJob, Task>> job, CancellationToken ct)
    {
        var jobId = jobs.Enqueue(job);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<RunRecord>().Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, jobId), ct);
        return jobId;
    }

    /// <summary>Claims a queued run for this instance: running, owned here, started now. Null when it is no longer
    /// queued (cancelled first, or executed already), in which case nothing is to be done.</summary>
    public Task<RunClaim?> ClaimAsync(Guid runId, string? phase, CancellationToken jobToken) =>
        TakeAsync(runId, phase, RunStatus.Queued, jobToken);

    /// <summary>Takes a running run that no instance executes now (a recovery wizard waiting for its next step).</summary>
    public Task<RunClaim?> TakeOverAsync(Guid runId, string? phase, CancellationToken jobToken) =>
        TakeAsync(runId, phase, RunStatus.Running, jobToken);

    private async Task<RunClaim?> TakeAsync(Guid runId, string? phase, RunStatus from, CancellationToken jobToken)
    {
        var lease = await instance.CurrentAsync(jobToken);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(jobToken);
        await using var tx = await db.Database.BeginTransactionAsync(jobToken);
        var rows = await db.Set<RunRecord>()
            .Where(r => r.Id == runId && r.Status == from && r.OwnerInstanceId == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Running)
                .SetProperty(r => r.StartedAt, r => from == RunStatus.Queued ? now : r.StartedAt)
                .SetProperty(r => r.HeartbeatAt, now)
                .SetProperty(r => r.Phase, r => phase ?? r.Phase)
                .SetProperty(r => r.OwnerInstanceId, lease.InstanceId)
                .SetProperty(r => r.OwnerHost, ConsoleInstance.Host)
                .SetProperty(r => r.OwnerProcessId, Environment.ProcessId)
                .SetProperty(r => r.CancelRequestedAt, (DateTimeOffset?)null)
                .SetProperty(r => r.CancelRequestedBy, (string?)null)
                .SetProperty(r => r.ProgressDone, 0)
                .SetProperty(r => r.ProgressTotal, (long?)null), jobToken);
        if (rows == 0)
        {
            return null;
        }

        var run = await db.Set<RunRecord>().AsNoTracking().SingleAsync(r => r.Id == runId, jobToken);
        if (from == RunStatus.Queued)
        {
            await kinds.Of(run.Kind).OnStatusChangedAsync(db, run, jobToken);
        }

        await tx.CommitAsync(jobToken);
        var claim = new RunClaim(this, run, lease.InstanceId, jobToken, lease.Lost) { Phase = run.Phase };
        Local.Add(claim);
        notifier.Publish(new RunProgress(run.Kind, run.Id, RunStatus.Running, run.Phase));
        return claim;
    }

    /// <summary>Ends a run that is still queued (skipped, or refused when its turn came); false when it is not queued.</summary>
    public Task<bool> EndQueuedAsync(Guid runId, RunEnd end) => ends.EndAsync(runId, RunStatus.Queued, null, end);

    /// <summary>Says where a queued run waits ("Waiting" for another run to end).</summary>
    public async Task SetQueuedPhaseAsync(RunKind kind, Guid runId, string phase)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            await db.Set<RunRecord>().Where(r => r.Id == runId && r.Status == RunStatus.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Phase, phase), CancellationToken.None);
        }

        notifier.Publish(new RunProgress(kind, runId, RunStatus.Queued, phase));
    }

    /// <summary>Whether the run is still queued (a waiting run stops waiting once cancelled).</summary>
    public async Task<bool> IsQueuedAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<RunRecord>().AnyAsync(r => r.Id == runId && r.Status == RunStatus.Queued, ct);
    }

    public async Task SetPhaseAsync(RunClaim claim, string phase)
    {
        claim.Phase = phase;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            await db.Set<RunRecord>().Where(r => r.Id == claim.RunId && r.OwnerInstanceId == claim.OwnerInstanceId)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Phase, phase), CancellationToken.None);
        }

        notifier.Publish(new RunProgress(claim.Kind, claim.RunId, RunStatus.Running, phase, claim.Done, claim.Total));
    }

    /// <summary>Live progress in the kind's unit; told to pages now and kept with the next heartbeat.</summary>
    public void ReportProgress(RunClaim claim, long done, long? total = null)
    {
        claim.Done = done;
        claim.Total = total ?? claim.Total;
        notifier.Publish(new RunProgress(claim.Kind, claim.RunId, RunStatus.Running, claim.Phase, claim.Done, claim.Total));
    }

    /// <summary>Ends the claimed run. False when it had been ended elsewhere meanwhile (a sweep that took this instance
    /// for dead): then nothing is written over that.</summary>
    public async Task<bool> FinishAsync(RunClaim claim, RunEnd end)
    {
        claim.Ended = true;
        Local.Remove(claim);
        var ended = await ends.EndAsync(claim.RunId, claim.OwnerInstanceId, end);
        if (!ended)
        {
            logger.LogWarning("Run {RunId} had already been ended elsewhere; its {Status} end here was not recorded", claim.RunId, end.Status);
        }

        return ended;
    }

    /// <summary>Ends a running run whichever instance executes it (a wizard a person abandons, or completes by hand):
    /// an executor here stops at once, one elsewhere with its next heartbeat. False when it was not running.</summary>
    public async Task<bool> EndRunningAsync(Guid runId, RunEnd end)
    {
        var ended = await ends.EndAsync(runId, RunStatus.Running, null, end);
        if (ended && Local.Find(runId) is { } here)
        {
            here.Stop($"It was ended: {end.Error ?? end.Status.ToString().ToLowerInvariant()}");
        }

        return ended;
    }

    /// <summary>Lets go of a run that goes on without an executor (a wizard after its step); it stays running.</summary>
    public async Task ReleaseAsync(RunClaim claim, string? phase = null)
    {
        claim.Ended = true;
        Local.Remove(claim);
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Set<RunRecord>().Where(r => r.Id == claim.RunId && r.OwnerInstanceId == claim.OwnerInstanceId && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.OwnerInstanceId, (Guid?)null)
                .SetProperty(r => r.Phase, r => phase ?? r.Phase)
                .SetProperty(r => r.CancelRequestedAt, (DateTimeOffset?)null)
                .SetProperty(r => r.CancelRequestedBy, (string?)null), CancellationToken.None);
        notifier.Publish(new RunProgress(claim.Kind, claim.RunId, RunStatus.Running, phase ?? claim.Phase));
    }

    internal async Task CloseAsync(RunClaim claim)
    {
        if (claim.Ended)
        {
            return;
        }

        logger.LogError("Run {RunId} ({Kind}) was left without an end; recording it as failed", claim.RunId, claim.Kind);
        await FinishAsync(claim, new RunEnd(RunStatus.Failed, "The run stopped without recording how it ended. Run it again; the console's log has the details.", RunFailureKind.Unexpected));
    }
}
