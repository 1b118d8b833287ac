using Hangfire;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Runs;

/// <summary>What a Cancel says, in the kind's words.</summary>
/// <param name="AuditAction">The kind's cancel action (<c>restore.cancelled</c>).</param>
/// <param name="AuditTarget">How the audit trail names the run.</param>
/// <param name="Untouched">What a run cancelled before it started did not touch ("No database was created.").</param>
/// <param name="Stopping">What stopping a running one does ("pg_restore is stopped and the throw-away database dropped.").</param>
public sealed record RunCancelTexts(string AuditAction, string AuditTarget, string Untouched, string Stopping);

public enum RunCancelOutcome
{
    /// <summary>It was still queued and ended before it started.</summary>
    EndedBeforeStart,
    /// <summary>It runs here and was told to stop; its record says how it ended.</summary>
    Stopping,
    /// <summary>It runs on another, living instance, which stops it within a heartbeat.</summary>
    StoppingElsewhere,
    /// <summary>Its instance had died: it was cleaned up and ended as failed now.</summary>
    FoundDead,
}

/// <summary>What the Cancel did, in a sentence for the person who pressed it.</summary>
public sealed record RunCancelResult(RunCancelOutcome Outcome, string Message);

/// <summary>Cancels a queued or running run of any kind, on whichever instance runs it, and says truthfully what
/// happened: ended before it started, told to stop (here at once; on another instance through the cancel request it
/// reads with its next heartbeat), or found dead and ended. Permission checks and the kind's own refusals come first,
/// in the kind's service.</summary>
public sealed class RunCancellation(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RunLifecycle lifecycle,
    RunEndRecorder ends,
    RunSweeper sweeper,
    ConsoleInstance instance,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    TimeProvider time)
{
    internal async Task<RunCancelResult> CancelAsync(Guid runId, Actor actor, RunCancelTexts texts, CancellationToken ct)
    {
        var run = await LoadAsync(runId, ct);
        if (run.Status == RunStatus.Queued)
        {
            var ended = await ends.EndAsync(runId, RunStatus.Queued, null,
                new RunEnd(RunStatus.Cancelled, $"Cancelled by {actor.Name} before it started. {texts.Untouched}"));
            if (ended)
            {
                if (run.JobId is not null)
                {
                    jobs.Delete(run.JobId);
                }

                return await RecordAsync(actor, texts, RunCancelOutcome.EndedBeforeStart, $"Cancelled before it started. {texts.Untouched}", ct);
            }

            // It started meanwhile: stop it as a running one.
            run = await LoadAsync(runId, ct);
        }

        if (run.Status != RunStatus.Running || run.OwnerInstanceId is not { } owner)
        {
            throw new InvalidOperationException($"It is {run.Status.ToString().ToLowerInvariant()} and nothing executes it now; nothing was cancelled.");
        }

        var now = time.GetUtcNow();
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Set<RunRecord>().Where(r => r.Id == runId && r.Status == RunStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequestedAt, now).SetProperty(r => r.CancelRequestedBy, actor.Name), ct);
        }

        if (lifecycle.Local.Find(runId) is { } here)
        {
            here.Stop($"Cancelled by {actor.Name}");
            return await RecordAsync(actor, texts, RunCancelOutcome.Stopping, $"Stopping: {texts.Stopping}", ct);
        }

        bool alive;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            alive = owner == instance.Id || await ConsoleInstance.IsAliveAsync(db, owner, ct);
        }

        if (alive)
        {
            return await RecordAsync(actor, texts, RunCancelOutcome.StoppingElsewhere,
                $"Running on another console instance ({run.OwnerHost}): it stops there within seconds. {texts.Stopping}", ct);
        }

        // Nobody runs it any more: say so, clean up and end it now rather than pretend a stop.
        await sweeper.EndAbandonedAsync(run, ct);
        var after = await LoadAsync(runId, ct);
        return await RecordAsync(actor, texts, RunCancelOutcome.FoundDead, $"It was no longer running, and is now {after.Status.ToString().ToLowerInvariant()}: {after.Error}", ct);
    }

    private async Task<RunRecord> LoadAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<RunRecord>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new KeyNotFoundException($"There is no run {runId}. Nothing was cancelled.");
    }

    private async Task<RunCancelResult> RecordAsync(Actor actor, RunCancelTexts texts, RunCancelOutcome outcome, string message, CancellationToken ct)
    {
        await audit.RecordAsync(actor, texts.AuditAction, texts.AuditTarget, AuditOutcome.Succeeded, message, ct);
        return new RunCancelResult(outcome, message);
    }
}
