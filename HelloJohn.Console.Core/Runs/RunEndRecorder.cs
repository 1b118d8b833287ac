using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Runs;

/// <summary>The registered kinds of run, by <see cref="RunKind"/>.</summary>
public sealed class RunKinds(IEnumerable<IRunKind> kinds)
{
    private readonly Dictionary<RunKind, IRunKind> _byKind = kinds.ToDictionary(k => k.Kind);

    public IRunKind Of(RunKind kind) => _byKind.TryGetValue(kind, out var k) ? k
        : throw new InvalidOperationException($"No run kind {kind} is registered (its feature's Add… registration is missing).");

    public IEnumerable<IRunKind> All => _byKind.Values;
}

/// <summary>Records the end of a run, the one way every end is recorded (a run finishing, a cancel before it started, a
/// sweep ending a dead instance's run): the end is written only if the run is still as expected (so of two enders one
/// wins), with the kind's own record in the same transaction; then the audit record, the pages, and the handlers.</summary>
public sealed class RunEndRecorder(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RunKinds kinds,
    IAuditLog audit,
    RunProgressNotifier notifier,
    IServiceProvider services,
    TimeProvider time,
    ILogger<RunEndRecorder> logger)
{
    private const int MaxError = 4000;

    /// <summary>Ends a running run owned by <paramref name="owner"/>; false when it is not (any more).</summary>
    internal Task<bool> EndAsync(Guid runId, Guid owner, RunEnd end) => EndAsync(runId, RunStatus.Running, owner, end);

    /// <summary>Ends a run that is still <paramref name="from"/> (and owned by <paramref name="owner"/>, unless that is null).</summary>
    internal async Task<bool> EndAsync(Guid runId, RunStatus from, Guid? owner, RunEnd end)
    {
        var now = time.GetUtcNow();
        var error = end.Error is { Length: > MaxError } e ? e[..(MaxError - 1)] + "…" : end.Error;
        RunRecord run;
        string subject;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var rows = await db.Set<RunRecord>()
                .Where(r => r.Id == runId && r.Status == from && (owner == null || r.OwnerInstanceId == owner))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, end.Status)
                    .SetProperty(r => r.Phase, end.Phase)
                    .SetProperty(r => r.FinishedAt, now)
                    .SetProperty(r => r.HeartbeatAt, r => r.StartedAt == null ? r.HeartbeatAt : now)
                    .SetProperty(r => r.Error, error)
                    .SetProperty(r => r.FailureKind, end.Status == RunStatus.Failed ? end.FailureKind ?? RunFailureKind.Unexpected : null), CancellationToken.None);
            if (rows == 0)
            {
                return false;
            }

            run = await db.Set<RunRecord>().AsNoTracking().Include(r => r.Target).SingleAsync(r => r.Id == runId, CancellationToken.None);
            if (end.Record is { } record)
            {
                await record(db, CancellationToken.None);
            }

            var kind = kinds.Of(run.Kind);
            await kind.OnStatusChangedAsync(db, run, CancellationToken.None);
            await tx.CommitAsync(CancellationToken.None);
            subject = await kind.SubjectAsync(db, run, CancellationToken.None);
        }

        if (end.AuditDetail is { } detail && kinds.Of(run.Kind).FinishedAuditAction is { } action)
        {
            var requester = new Actor(run.RequestedByUserId, run.RequestedBy ?? "system", []);
            await audit.RecordAsync(requester, action, subject, end.Status == RunStatus.Succeeded ? AuditOutcome.Succeeded : AuditOutcome.Failed, detail, CancellationToken.None);
        }

        notifier.Publish(new RunProgress(run.Kind, run.Id, run.Status, run.Phase, run.ProgressDone, run.ProgressTotal) { Error = run.Error });
        await TellHandlersAsync(new RunFinished(run.Kind, run.Id, run.TargetId, run.Target?.Name, run.Status, run.FailureKind, run.Error, run.Duration, end.Summary));
        return true;
    }

    private async Task TellHandlersAsync(RunFinished finished)
    {
        // Resolved when needed: handlers depend on services that depend on the lifecycle.
        foreach (var handler in services.GetServices<IRunFinishedHandler>())
        {
            try
            {
                await handler.OnRunFinishedAsync(finished, CancellationToken.None);
            }
            catch (Exception e)
            {
                // The run is recorded; what follows it must not change that.
                logger.LogWarning("After {Kind} run {RunId}, {Handler} failed: {Message}", finished.Kind, finished.RunId, handler.GetType().Name, e.Message);
            }
        }
    }
}
