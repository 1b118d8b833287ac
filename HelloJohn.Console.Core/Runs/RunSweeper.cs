using Hangfire;
using Hangfire.States;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Runs;

/// <summary>Ends the runs whose console instance is gone. Every instance sweeps, at start and every
/// <see cref="RunsOptions.SweepInterval"/>, one at a time under one lock: a running run whose owner no longer holds its
/// lock is cleaned up by its kind (partial files, throw-away databases, multipart uploads) and ended as failed with
/// the reason and what was cleaned.</summary>
public sealed class RunSweeper(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    ConsoleLocks locks,
    RunKinds kinds,
    RunEndRecorder ends,
    RunProgressNotifier notifier,
    JobStorage jobStorage,
    IOptionsMonitor<RunsOptions> options,
    TimeProvider time,
    ILogger<RunSweeper> logger) : BackgroundService
{
    /// <summary>Stopped instances are kept this long for the runs that name them, then forgotten.</summary>
    private static readonly TimeSpan KeepStoppedInstances = TimeSpan.FromDays(30);

    /// <summary>One sweep at a time in this instance (the periodic one and one asked for), waiting rather than skipping.</summary>
    private readonly SemaphoreSlim _one = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or IOException)
            {
                logger.LogWarning("The sweep for abandoned runs failed ({Message}); it runs again in {Interval}", e.Message, options.CurrentValue.SweepInterval);
            }

            try
            {
                await Task.Delay(options.CurrentValue.SweepInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>One sweep; returns how many runs it ended. Does nothing while another instance sweeps.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        await _one.WaitAsync(ct);
        try
        {
            await using var held = await locks.TryAcquireAsync(ConsoleLocks.Sweep, ct);
            return held is null ? 0 : await SweepHeldAsync(ct);
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task<int> SweepHeldAsync(CancellationToken ct)
    {
        List<RunRecord> abandoned;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            abandoned = await db.Set<RunRecord>().FromSql($"""
                SELECT r.* FROM runs r JOIN console_instances i ON i."Id" = r."OwnerInstanceId"
                WHERE r."Status" = 'Running' AND NOT EXISTS (
                    SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                      AND l.classid = {ConsoleInstance.LockNamespace}::oid AND l.objid = i."LockKey"::oid
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
                """).AsNoTracking().ToListAsync(ct);
        }

        var ended = 0;
        foreach (var run in abandoned)
        {
            if (await EndAbandonedAsync(run, ct))
            {
                ended++;
            }
        }

        var waiting = await QueuedPastGraceAsync(ct);
        if (waiting.Count > 0)
        {
            ended += await EndQueuedWhoseJobEndedAsync(waiting);
            await RequeueStuckJobsAsync(waiting, ct);
        }

        await ForgetDeadInstancesAsync(ct);
        foreach (var kind in kinds.All)
        {
            await kind.TidyAsync(ct);
        }

        if (ended > 0)
        {
            logger.LogWarning("Ended {Count} run(s) whose console instance had stopped", ended);
        }

        return ended;
    }

    /// <summary>How long a queued run's job may have ended before the run is ended for it: a job that finds its run
    /// no longer queued ends at once, and that run's end is being recorded by whoever ended it.</summary>
    internal static readonly TimeSpan QueuedJobGrace = TimeSpan.FromMinutes(1);

    private static readonly HashSet<string> EndedJobStates = [FailedState.StateName, SucceededState.StateName, DeletedState.StateName];

    /// <summary>Queued runs that have a job and were queued longer ago than <see cref="QueuedJobGrace"/>.</summary>
    private async Task<List<RunRecord>> QueuedPastGraceAsync(CancellationToken ct)
    {
        var before = time.GetUtcNow() - QueuedJobGrace;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<RunRecord>().AsNoTracking().Where(r => r.Status == RunStatus.Queued && r.JobId != null && r.CreatedAt < before).ToListAsync(ct);
    }

    /// <summary>Queued runs whose job ended without starting them (it failed before its claim, on a lost connection to
    /// the console database for one, or was deleted): nothing will ever run them, and they would say "Queued" for ever.
    /// Each is ended as failed with what became of its job.</summary>
    private async Task<int> EndQueuedWhoseJobEndedAsync(IReadOnlyList<RunRecord> queued)
    {
        var ended = 0;
        using var connection = jobStorage.GetConnection();
        foreach (var run in queued)
        {
            // A job id the store does not know (a catalog carried over from another console database) is left alone:
            // whether anything will run it cannot be told, and the run can still be cancelled by hand.
            var state = connection.GetJobData(run.JobId!) is null ? null : connection.GetStateData(run.JobId!);
            if (state is null || !EndedJobStates.Contains(state.Name))
            {
                continue;
            }

            var what = state.Name == FailedState.StateName && state.Data.TryGetValue("ExceptionMessage", out var error)
                ? $"failed ({error})"
                : $"ended ({state.Name.ToLowerInvariant()})";
            var message = $"Its job {what} before it could start the run. Nothing was done; request it again.";
            if (await ends.EndAsync(run.Id, RunStatus.Queued, null, new RunEnd(RunStatus.Failed, message, RunFailureKind.Unexpected) { AuditDetail = "failed: " + message }))
            {
                ended++;
                logger.LogWarning("Queued run {RunId} ({Kind}) was ended: {Message}", run.Id, run.Kind, message);
            }
        }

        return ended;
    }

    /// <summary>Queued runs whose job a worker took from its queue a while ago without ever starting it (the job is
    /// still "Enqueued", nothing processes it): the job is created again on the same queue, and the run points at the
    /// new one. The old one, should its worker ever get to it, finds the run no longer queued and does nothing. A job
    /// taken from the queue is invisible to every other worker for half an hour, so without this such a run would wait
    /// that long, seen by its user as queued with every worker free.</summary>
    private async Task RequeueStuckJobsAsync(IReadOnlyList<RunRecord> waiting, CancellationToken ct)
    {
        var before = time.GetUtcNow() - QueuedJobGrace;
        var queued = waiting.ToDictionary(r => r.JobId!);
        var monitoring = jobStorage.GetMonitoringApi();
        var client = new BackgroundJobClient(jobStorage);
        foreach (var queue in monitoring.Queues().Select(q => q.Name))
        {
            foreach (var (jobId, fetched) in monitoring.FetchedJobs(queue, 0, 500))
            {
                if (!queued.TryGetValue(jobId, out var run) || fetched?.FetchedAt is not { } at || at > before.UtcDateTime
                    || fetched.State != EnqueuedState.StateName || fetched.Job is null)
                {
                    continue;
                }

                var again = client.Create(fetched.Job, new EnqueuedState(queue));
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                var moved = await db.Set<RunRecord>().Where(r => r.Id == run.Id && r.Status == RunStatus.Queued && r.JobId == jobId)
                    .ExecuteUpdateAsync(x => x.SetProperty(r => r.JobId, again), ct);
                if (moved > 0)
                {
                    logger.LogWarning("Queued run {RunId} ({Kind}): its job {JobId} was taken from the {Queue} queue at {FetchedAt:u} and never started; queued again as job {NewJobId}",
                        run.Id, run.Kind, jobId, queue, at, again);
                }
            }
        }
    }

    /// <summary>Cleans up after a run whose instance died and ends it as failed with why and what was cleaned (or, for
    /// a kind whose run goes on, lets go of it). False when someone else ended it first.</summary>
    internal async Task<bool> EndAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        AbandonedRunCleanup cleanup;
        try
        {
            cleanup = await kinds.Of(run.Kind).CleanUpAbandonedAsync(run, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Cleaning up after abandoned run {RunId} failed", run.Id);
            cleanup = new AbandonedRunCleanup($"Cleaning up what it left failed ({e.Message}); check by hand.");
        }

        var who = $"The console instance that ran it ({run.OwnerHost ?? "unknown host"}, process {run.OwnerProcessId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"})";
        var last = run.HeartbeatAt is { } at ? $" (last heard of {at:u})" : "";
        if (!cleanup.EndsRun)
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            var released = await db.Set<RunRecord>().Where(r => r.Id == run.Id && r.Status == RunStatus.Running && r.OwnerInstanceId == run.OwnerInstanceId)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.OwnerInstanceId, (Guid?)null), CancellationToken.None);
            notifier.Publish(new RunProgress(run.Kind, run.Id, RunStatus.Running, run.Phase));
            logger.LogWarning("{Who} stopped{Last}; run {RunId} goes on: {Cleanup}", who, last, run.Id, cleanup.Done);
            return released > 0;
        }

        var message = $"{who} stopped before it finished{last}. {cleanup.Done}";
        var ended = await ends.EndAsync(run.Id, RunStatus.Running, run.OwnerInstanceId, new RunEnd(RunStatus.Failed, message, RunFailureKind.OwnerLost)
        {
            AuditDetail = "failed: " + message,
            Summary = cleanup.Summary,
        });
        if (ended)
        {
            await AfterEndedAsync(run, ct);
        }

        return ended;
    }

    /// <summary>Lets the kind reconcile its record with what the run left, and adds what it found to the run's error.</summary>
    private async Task AfterEndedAsync(RunRecord run, CancellationToken ct)
    {
        string? found;
        try
        {
            found = await kinds.Of(run.Kind).AfterAbandonedRunEndedAsync(run, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Checking what abandoned run {RunId} left failed: {Message}", run.Id, e.Message);
            return;
        }

        if (found is not null)
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.Set<RunRecord>().Where(r => r.Id == run.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Error, r => r.Error + " " + found), CancellationToken.None);
        }
    }

    private async Task ForgetDeadInstancesAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            UPDATE console_instances i SET "StoppedAt" = {now}
            WHERE i."StoppedAt" IS NULL AND i."StartedAt" < {now - options.CurrentValue.SweepInterval} AND NOT EXISTS (
                SELECT 1 FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                  AND l.classid = {ConsoleInstance.LockNamespace}::oid AND l.objid = i."LockKey"::oid
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
            """, ct);
        var forgetBefore = now - KeepStoppedInstances;
        await db.Set<ConsoleInstanceRecord>()
            .Where(i => i.StoppedAt < forgetBefore && !db.Set<RunRecord>().Any(r => r.OwnerInstanceId == i.Id && r.Status == RunStatus.Running))
            .ExecuteDeleteAsync(ct);
    }
}
