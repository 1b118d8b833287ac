using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Backups;

/// <summary>The backup catalog: requests (named, queued as runs), cancels, pins and reads backups. Taking one is the
/// <see cref="BackupRunner"/>'s and the <see cref="BackupPipeline"/>'s work.</summary>
public sealed class BackupService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    RunLifecycle lifecycle,
    RunCancellation cancellation,
    BackupRunner runner,
    BackupUploadRetry uploads,
    BackupCatalogQueries queries,
    IAuditLog audit,
    CallerGate gate,
    IOptionsMonitor<BackupOptions> options,
    TimeProvider time)
{
    /// <summary>Queues a backup of <paramref name="targetId"/> (the default target when null) as a background job.</summary>
    public async Task<Guid> RequestAsync(Actor actor, Guid? targetId, BackupTrigger trigger, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RunBackup, AuditActions.BackupRequested, targetId?.ToString(), ct);

        var target = targetId is { } id ? await targets.GetAsync(id, ct) : await targets.GetDefaultAsync(ct)
            ?? throw new InvalidOperationException("No HelloJohn database is configured to back up. Set HELLOJOHN_DATABASE_URL.");
        var (record, run) = await CreateRecordAsync(target.Id, trigger, actor, target.Selection.Databases.FirstOrDefault(), ct);
        await lifecycle.EnqueueAsync<BackupJob>(record.Id, j => j.RunAsync(record.Id, CancellationToken.None), ct);
        await audit.RecordAsync(actor, AuditActions.BackupRequested, $"{target.Name}: {record.FileName}", AuditOutcome.Succeeded, $"trigger {trigger}", ct);
        lifecycle.Queued(run);
        return record.Id;
    }

    /// <summary>Creates the record and runs the backup in the caller (used for the safety backup before a restore in
    /// place, which must exist before anything else happens). Returns the finished record's id; throws when it failed.</summary>
    public async Task<Guid> RunNowAsync(Actor actor, Guid targetId, BackupTrigger trigger, CancellationToken ct, string? database = null)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RunBackup, AuditActions.BackupRequested, targetId.ToString(), ct);
        var (record, run) = await CreateRecordAsync(targetId, trigger, actor, database ?? (await targets.GetAsync(targetId, ct)).Selection.Databases.FirstOrDefault(), ct);
        await audit.RecordAsync(actor, AuditActions.BackupRequested, record.FileName, AuditOutcome.Succeeded, $"trigger {trigger}", ct);
        lifecycle.Queued(run);
        await RunAsync(record.Id, ct);
        return record.Id;
    }

    /// <summary>Runs a queued backup. Re-entrant: a record that is no longer queued is left alone.</summary>
    public Task RunAsync(Guid backupId, CancellationToken ct) => runner.RunAsync(backupId, ct);

    /// <param name="database">The database to dump; the one the deployment's connection names when null.</param>
    private async Task<(BackupRecord, RunRecord)> CreateRecordAsync(Guid targetId, BackupTrigger trigger, Actor actor, string? database, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var compression = BackupCompression.Parse(options.CurrentValue.Compression);
        // Two backups in the same second (a manual one beside the schedule, two consoles) must not share a file: the
        // name is unique in the catalog, and a request that loses the race to a name takes the next suffix.
        for (var n = 1; ; n++)
        {
            var name = n == 1
                ? BackupNaming.FileNameFor(now, extension: compression.FileExtension)
                : BackupNaming.FileNameFor(now, n.ToString(System.Globalization.CultureInfo.InvariantCulture), compression.FileExtension);
            if (await db.Backups.AnyAsync(b => b.FileName == name, ct))
            {
                continue;
            }

            var run = lifecycle.NewRun(RunKind.Backup, targetId, actor, nameof(BackupPhase.Queued));
            var record = new BackupRecord
            {
                Id = run.Id,
                TargetId = targetId,
                DatabaseName = database,
                FileName = name,
                Status = BackupStatus.Queued,
                Trigger = trigger,
                RequestedBy = actor.Name,
                CreatedAt = run.CreatedAt,
                Compression = compression.ToString(),
            };
            db.Add(run);
            db.Backups.Add(record);
            try
            {
                await db.SaveChangesAsync(ct);
                return (record, run);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && n < 100)
            {
                // Taken a moment ago by a concurrent request.
                db.Entry(record).State = EntityState.Detached;
                db.Entry(run).State = EntityState.Detached;
            }
        }
    }

    /// <summary>Stops a queued or running backup, here or on the instance that runs it. Its partial files are removed
    /// and the record says cancelled; a backup whose instance had died is ended as failed, and the result says so.</summary>
    public async Task<RunCancelResult> CancelAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.CancelBackup, AuditActions.BackupCancelled, backupId.ToString(), ct);
        string fileName;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var record = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId, ct) ?? throw new KeyNotFoundException($"No backup {backupId}.");
            if (record.Status is not (BackupStatus.Queued or BackupStatus.Running))
            {
                throw new InvalidOperationException($"{record.FileName} is {record.Status.ToString().ToLowerInvariant()}; only a queued or running backup can be cancelled.");
            }

            fileName = record.FileName;
        }

        return await cancellation.CancelAsync(backupId, actor,
            new RunCancelTexts(AuditActions.BackupCancelled, fileName, "Nothing was written.", "pg_dump is stopped and its partial files removed."), ct);
    }

    /// <summary>Copies a partially stored backup from a store that holds it into the daily stores that lack it, checking
    /// its SHA-256 on the way. Returns the stores it reached.</summary>
    public async Task<IReadOnlyList<string>> RetryUploadAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RunBackup, AuditActions.BackupUploadRetried, backupId.ToString(), ct);
        return await uploads.RetryAsync(actor, backupId, ct);
    }

    /// <summary>Pins a backup (retention never expires it) or unpins it. Only a backup with a file can be pinned.</summary>
    public async Task PinAsync(Actor actor, Guid backupId, bool pinned, CancellationToken ct)
    {
        var action = pinned ? "pin" : "unpin";
        actor = await gate.DemandAsync(actor, ConsolePermission.PinBackup, AuditActions.BackupPinned, $"{action} {backupId}", ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.Backups.FirstOrDefaultAsync(b => b.Id == backupId, ct)
            ?? throw new KeyNotFoundException($"There is no backup with id {backupId}; it may have been removed. Nothing was changed.");
        if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            throw new InvalidOperationException($"{record.FileName} is {StatusText(record.Status)}, so it has no file to keep; only a finished backup can be pinned. Nothing was changed.");
        }

        if (record.Pinned != pinned)
        {
            record.Pinned = pinned;
            await db.SaveChangesAsync(ct);
        }

        await audit.RecordAsync(actor, AuditActions.BackupPinned, record.FileName, AuditOutcome.Succeeded,
            pinned ? "Pinned: retention keeps it until it is unpinned." : "Unpinned: retention treats it like any other backup again.", ct);
    }

    private static string StatusText(BackupStatus status) => status == BackupStatus.PartiallyStored ? "partially stored" : status.ToString().ToLowerInvariant();

    public Task<BackupPage> QueryAsync(BackupQuery query, CancellationToken ct) => queries.QueryAsync(query, ct);

    public Task<BackupDetails?> GetAsync(Guid backupId, CancellationToken ct) => queries.GetAsync(backupId, ct);
}
