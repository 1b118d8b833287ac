using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Which base backups stay: the newest <see cref="PitrOptions.KeepBaseBackups"/> always, older ones until they
/// pass <see cref="PitrOptions.BaseBackupMaxAge"/>. WAL from before the oldest kept backup's start restores nothing and
/// goes with it.</summary>
public sealed record BaseBackupRetentionPlan(IReadOnlyList<Guid> Keep, IReadOnlyList<Guid> Expire, long? OldestNeededSegment)
{
    public static BaseBackupRetentionPlan For(IReadOnlyList<BaseBackupRecord> succeeded, DateTimeOffset now, PitrOptions options)
    {
        var ordered = succeeded.OrderByDescending(b => b.StartedAt).ToList();
        var keep = ordered.Where((b, i) => i < options.KeepBaseBackups || now - (b.ConsistentAt ?? b.StartedAt) <= options.BaseBackupMaxAge).ToList();
        var expire = ordered.Except(keep).Select(b => b.Id).ToList();
        long? oldest = keep.Count == 0 ? null : keep.Min(b => Lsn.Parse(b.StartLsn!).Segment);
        return new BaseBackupRetentionPlan(keep.Select(b => b.Id).ToList(), expire, oldest);
    }
}

public sealed class BaseBackupRetention(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    PitrArchiveStores stores,
    IOptions<PitrOptions> options,
    TimeProvider time,
    ILogger<BaseBackupRetention> logger)
{
    public async Task<BaseBackupRetentionPlan> ApplyAsync(Guid server, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var succeeded = await db.Set<BaseBackupRecord>().Where(b => b.TargetId == server && b.Status == BaseBackupStatus.Succeeded).ToListAsync(ct);
        var plan = BaseBackupRetentionPlan.For(succeeded, time.GetUtcNow(), options.Value);
        foreach (var backup in succeeded.Where(b => plan.Expire.Contains(b.Id)))
        {
            foreach (var name in BaseBackupEngine.StoredFiles)
            {
                await stores.DeleteEverywhereAsync(backup.KeyPrefix + name + PitrKeys.Compressed, ct);
            }

            backup.Status = BaseBackupStatus.Expired;
            logger.LogInformation("Base backup {Backup} of server {Server} expired by retention", backup.Id, server);
        }

        if (plan.OldestNeededSegment is { } oldest)
        {
            var old = await db.Set<WalArchiveFile>()
                .Where(w => w.TargetId == server && w.Kind != WalFileKind.History && w.Segment < oldest)
                .ToListAsync(ct);
            foreach (var file in old)
            {
                await stores.DeleteEverywhereAsync(file.Key, ct);
                db.Remove(file);
            }

            if (old.Count > 0)
            {
                logger.LogInformation("Removed {Count} WAL files of server {Server} older than the oldest kept base backup", old.Count, server);
            }
        }

        await db.SaveChangesAsync(ct);
        return plan;
    }
}

/// <summary>Queues base backups. One at a time per server: asking while one is queued or running returns that one.</summary>
public interface IBaseBackupRequester
{
    /// <summary>Queues a base backup as a run, recorded as asked for by <paramref name="requestedBy"/> (a person whose
    /// permission the caller checked, with their account id), or by the system when null. With
    /// <paramref name="startsAfterNow"/> (the window restarts now), a base backup already copying does not do: a new one
    /// is queued behind it.</summary>
    Task<Guid> RequestAsync(Guid server, string reason, CancellationToken ct, string? requestedBy = null, string? requestedByUserId = null, bool startsAfterNow = false);

    /// <summary>Queues one unless a base backup succeeded, is queued or runs.</summary>
    Task EnsureOneAsync(Guid server, string reason, CancellationToken ct);
}

internal sealed class BaseBackupRequester(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RunLifecycle lifecycle,
    PitrNotifier notifier,
    TimeProvider time,
    ILogger<BaseBackupRequester> logger) : IBaseBackupRequester
{
    /// <summary>A running base backup blocks new requests until it ends: its console ends it, or the sweep does once that
    /// console is gone. A queued one has no owner the sweep could find dead: if its Hangfire job was lost (the job
    /// storage reset, the job deleted by hand), nothing would ever start or end it. A queued job waits minutes for a
    /// worker, or as long as another base backup of the server runs; one still queued after this long while none runs
    /// is taken for lost: it is ended and a new one queued.</summary>
    private static readonly TimeSpan QueuedJobLost = TimeSpan.FromHours(6);

    public async Task<Guid> RequestAsync(Guid server, string reason, CancellationToken ct, string? requestedBy = null, string? requestedByUserId = null, bool startsAfterNow = false)
    {
        var active = await ActiveAsync(server, ct);
        if (active.FirstOrDefault(r => r.Status == RunStatus.Queued) is { } queued)
        {
            return queued.Id;
        }

        if (active.Count > 0 && !startsAfterNow)
        {
            return active[0].Id;
        }

        var run = lifecycle.NewRun(RunKind.BaseBackup, server, requestedBy is null ? Actor.System : new Actor(requestedByUserId, requestedBy, []));
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Add(run);
            db.Add(new BaseBackupRecord
            {
                Id = run.Id,
                TargetId = server,
                Status = BaseBackupStatus.Queued,
                Reason = reason.Length > 256 ? reason[..256] : reason,
                StartedAt = run.CreatedAt,
                KeyPrefix = PitrKeys.BasePrefix(server, run.Id, run.CreatedAt),
            });
            await db.SaveChangesAsync(ct);
        }

        lifecycle.Queued(run);
        try
        {
            await lifecycle.EnqueueAsync<BaseBackupJob>(run.Id, j => j.RunAsync(run.Id, CancellationToken.None), ct);
        }
        catch (Exception e)
        {
            // A run left queued with no job behind it would stand for a base backup nobody takes, and every later
            // request would wait on it: it ends as failed, so the next request queues a new one.
            var why = $"The base backup could not be queued: {e.Message} Nothing was taken; it is asked for again when streaming restarts or from the page.";
            await lifecycle.EndQueuedAsync(run.Id, new RunEnd(RunStatus.Failed, why, RunFailureKind.Unexpected) { AuditDetail = $"failed: {why}" });
            notifier.Publish(server);
            throw;
        }

        notifier.Publish(server);
        return run.Id;
    }

    public async Task EnsureOneAsync(Guid server, string reason, CancellationToken ct)
    {
        bool succeeded;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            succeeded = await db.Set<BaseBackupRecord>().AnyAsync(b => b.TargetId == server && b.Status == BaseBackupStatus.Succeeded, ct);
        }

        if (!succeeded)
        {
            await RequestAsync(server, reason, ct);
        }
    }

    /// <summary>The server's base backups that are running, or queued with a job that may still run, newest first. A
    /// queued one waits while another runs; one still queued after <see cref="QueuedJobLost"/> with none running is
    /// taken for lost and ended on the way.</summary>
    private async Task<List<RunRecord>> ActiveAsync(Guid server, CancellationToken ct)
    {
        List<RunRecord> active;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            active = await db.Set<RunRecord>().AsNoTracking()
                .Where(r => r.Kind == RunKind.BaseBackup && r.TargetId == server && (r.Status == RunStatus.Queued || r.Status == RunStatus.Running))
                .OrderByDescending(r => r.CreatedAt).ToListAsync(ct);
        }

        var lostBefore = time.GetUtcNow() - QueuedJobLost;
        var lost = active.Any(r => r.Status == RunStatus.Running) ? [] : active.Where(r => r.CreatedAt < lostBefore).ToList();
        foreach (var run in lost)
        {
            var why = $"It was still queued after {QueuedJobLost.TotalHours:0} hours: its job never ran (lost from the job queue). Nothing was taken; a new base backup was queued instead.";
            if (await lifecycle.EndQueuedAsync(run.Id, new RunEnd(RunStatus.Failed, why, RunFailureKind.Unexpected) { AuditDetail = $"failed: {why}" }))
            {
                logger.LogWarning("Base backup {Backup} of server {Server} was queued since {Queued} and never started; ended", run.Id, server, run.CreatedAt);
            }
        }

        return [.. active.Except(lost)];
    }
}

/// <summary>Thin Hangfire job: a base backup by id.</summary>
public sealed class BaseBackupJob(BaseBackupEngine engine)
{
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid backupId, CancellationToken ct) => engine.RunAsync(backupId, ct);
}
