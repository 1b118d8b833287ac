using Hangfire;
using Hangfire.States;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Sets;

/// <summary>A member's latest attempt: the backup of one database of a set (a retry makes a newer one).</summary>
public sealed record SetMemberState(Guid BackupId, string Database, string FileName, BackupStatus Status, long? SizeBytes, string? Sha256,
    string? SchemaVersion, string? Error, RunFailureKind? FailureKind, DateTimeOffset CreatedAt)
{
    public bool Kept => Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored;
    public bool Active => Status is BackupStatus.Queued or BackupStatus.Running;
}

/// <summary>A set's members: one backup run per database, created together and queued on the members' queue, where
/// any console instance's worker takes them; the latest attempt of each database is the one that counts.</summary>
public sealed class SetMembers(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RunLifecycle lifecycle,
    IBackgroundJobClient jobs,
    IOptionsMonitor<BackupOptions> options)
{
    /// <summary>Creates the queued backups of <paramref name="databases"/> (largest first, as given) in one transaction,
    /// with the set's running state. Returns their ids.</summary>
    internal async Task<IReadOnlyList<Guid>> CreateAsync(BackupSet set, IReadOnlyList<string> databases, IReadOnlyList<string> gone, Actor requester, CancellationToken ct)
    {
        var compression = BackupCompression.Parse(options.CurrentValue.Compression);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var names = databases.ToDictionary(d => d, d => SetNaming.MemberFileName(d, set.CreatedAt, compression.FileExtension), StringComparer.Ordinal);
        // A retry's member, or a database of another deployment named alike in the same second, takes the next suffix.
        for (var attempt = 2; ; attempt++)
        {
            var wanted = names.Values.ToList();
            var taken = await db.Backups.Where(b => wanted.Contains(b.FileName)).Select(b => b.FileName).ToListAsync(ct);
            if (taken.Count == 0)
            {
                break;
            }

            foreach (var database in names.Where(kv => taken.Contains(kv.Value)).Select(kv => kv.Key).ToList())
            {
                names[database] = SetNaming.MemberFileName(database, set.CreatedAt, compression.FileExtension, attempt);
            }
        }

        var runs = new List<RunRecord>();
        foreach (var database in databases)
        {
            var run = lifecycle.NewRun(RunKind.Backup, set.TargetId, requester, nameof(BackupPhase.Queued));
            runs.Add(run);
            db.Add(run);
            db.Backups.Add(new BackupRecord
            {
                Id = run.Id,
                TargetId = set.TargetId,
                SetId = set.Id,
                DatabaseName = database,
                FileName = names[database],
                Status = BackupStatus.Queued,
                Trigger = set.Trigger,
                RequestedBy = requester.Name,
                CreatedAt = run.CreatedAt,
                Compression = compression.ToString(),
            });
        }

        await db.SaveChangesAsync(ct);
        var total = await db.Backups.Where(b => b.SetId == set.Id).Select(b => b.DatabaseName).Distinct().CountAsync(ct);
        await db.Set<BackupSet>().Where(s => s.Id == set.Id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.GoneDatabases, gone.ToList())
            .SetProperty(x => x.MemberCount, total), ct);
        await tx.CommitAsync(ct);
        foreach (var run in runs)
        {
            lifecycle.Queued(run);
        }

        return [.. runs.Select(r => r.Id)];
    }

    /// <summary>Queues each member's job on the members' queue, in order.</summary>
    public async Task EnqueueAsync(IReadOnlyList<Guid> backupIds, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var id in backupIds)
        {
            var jobId = jobs.Create(Hangfire.Common.Job.FromExpression<BackupJob>(j => j.RunAsync(id, CancellationToken.None)), new EnqueuedState(SetJobs.Queue));
            await db.Set<RunRecord>().Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, jobId), ct);
        }
    }

    /// <summary>Ends members that never started (their set was cancelled or failed first). Returns how many.</summary>
    public async Task<int> EndQueuedAsync(IReadOnlyList<Guid> backupIds, string why)
    {
        var ended = 0;
        foreach (var id in backupIds)
        {
            if (await lifecycle.EndQueuedAsync(id, new RunEnd(RunStatus.Cancelled, why)))
            {
                ended++;
            }
        }

        return ended;
    }

    /// <summary>The latest attempt of every database of the set.</summary>
    public async Task<IReadOnlyList<SetMemberState>> LatestAsync(Guid setId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = await (
            from b in db.Backups.AsNoTracking()
            where b.SetId == setId
            join r in db.Set<RunRecord>() on b.Id equals r.Id into runs
            from r in runs.DefaultIfEmpty()
            select new SetMemberState(b.Id, b.DatabaseName!, b.FileName, b.Status, b.SizeBytes, b.Sha256, b.SchemaVersion, b.Error,
                r == null ? null : r.FailureKind, b.CreatedAt)).ToListAsync(ct);
        return [.. all.GroupBy(m => m.Database, StringComparer.Ordinal).Select(g => g.MaxBy(m => m.CreatedAt)!).OrderBy(m => m.Database, StringComparer.Ordinal)];
    }

    /// <summary>The databases whose latest attempt did not keep a file.</summary>
    public async Task<IReadOnlyList<string>> FailedDatabasesAsync(Guid setId, CancellationToken ct) =>
        [.. (await LatestAsync(setId, ct)).Where(m => !m.Kept && !m.Active).Select(m => m.Database)];
}
