using HelloJohn.Console.Core.Data;
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
    Task<Guid> RequestAsync(Guid server, string reason, CancellationToken ct);

    /// <summary>Queues one unless a base backup succeeded, is queued or runs.</summary>
    Task EnsureOneAsync(Guid server, string reason, CancellationToken ct);
}

internal sealed class BaseBackupRequester(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackgroundJobClient jobs,
    PitrNotifier notifier,
    TimeProvider time) : IBaseBackupRequester
{
    /// <summary>A queued or running record older than this belongs to a console that died; it no longer blocks.</summary>
    private static readonly TimeSpan Abandoned = TimeSpan.FromHours(6);

    public async Task<Guid> RequestAsync(Guid server, string reason, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var since = time.GetUtcNow() - Abandoned;
        var active = await db.Set<BaseBackupRecord>().AsNoTracking()
            .Where(b => b.TargetId == server && (b.Status == BaseBackupStatus.Queued || b.Status == BaseBackupStatus.Running) && b.StartedAt > since)
            .Select(b => (Guid?)b.Id).FirstOrDefaultAsync(ct);
        if (active is { } existing)
        {
            return existing;
        }

        var id = Guid.NewGuid();
        var now = time.GetUtcNow();
        db.Add(new BaseBackupRecord
        {
            Id = id,
            TargetId = server,
            Status = BaseBackupStatus.Queued,
            Reason = reason.Length > 256 ? reason[..256] : reason,
            StartedAt = now,
            KeyPrefix = PitrKeys.BasePrefix(server, id, now),
        });
        await db.SaveChangesAsync(ct);
        try
        {
            jobs.Enqueue<BaseBackupJob>(j => j.RunAsync(id, CancellationToken.None));
        }
        catch (Exception e)
        {
            // A record left queued with no job behind it would stand for a base backup nobody takes, and every later
            // request would wait on it: it ends as failed, so the next request queues a new one.
            await db.Set<BaseBackupRecord>().Where(b => b.Id == id && b.Status == BaseBackupStatus.Queued)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(b => b.Status, BaseBackupStatus.Failed)
                    .SetProperty(b => b.FinishedAt, time.GetUtcNow())
                    .SetProperty(b => b.Error, $"The base backup could not be queued: {e.Message} Nothing was taken; it is asked for again when streaming restarts or from the page."), CancellationToken.None);
            notifier.Publish(server);
            throw;
        }

        notifier.Publish(server);
        return id;
    }

    public async Task EnsureOneAsync(Guid server, string reason, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var since = time.GetUtcNow() - Abandoned;
        var any = await db.Set<BaseBackupRecord>().AnyAsync(b => b.TargetId == server &&
            (b.Status == BaseBackupStatus.Succeeded || ((b.Status == BaseBackupStatus.Queued || b.Status == BaseBackupStatus.Running) && b.StartedAt > since)), ct);
        if (!any)
        {
            await RequestAsync(server, reason, ct);
        }
    }
}

/// <summary>Thin Hangfire job: a base backup by id.</summary>
public sealed class BaseBackupJob(BaseBackupEngine engine)
{
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid backupId, CancellationToken ct) => engine.RunAsync(backupId, null, ct);
}
