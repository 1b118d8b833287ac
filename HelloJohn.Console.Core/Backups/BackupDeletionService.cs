using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Backups;

/// <summary>What a delete did: the stores the file and its manifest were removed from.</summary>
public sealed record BackupDeleteResult(string FileName, IReadOnlyList<string> Stores, string Message);

/// <summary>Deletes one backup file at an administrator's request: from every store that holds it, its manifest with it,
/// and the catalog entry stays as expired, for history. Refused (nothing deleted) unless the administrator typed the
/// file's name, and for a queued or running backup, one a verification or restore needs, a pinned one, a member of a set (retention removes sets whole) and
/// the newest verified backup of its database: the one restore known to work.</summary>
public sealed class BackupDeletionService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    IAuditLog audit,
    CallerGate gate,
    ConsoleLocks locks,
    TimeProvider time,
    ILogger<BackupDeletionService> logger,
    IBackupVerificationHistory? verifications = null)
{
    /// <summary>How long a delete waits for retention of the target, which runs after every backup, to finish.</summary>
    public static readonly TimeSpan RetentionWait = TimeSpan.FromSeconds(30);
    private readonly BackupObjects _objects = new(stores, logger);

    /// <param name="confirmation">The file name as the administrator typed it.</param>
    public async Task<BackupDeleteResult> DeleteAsync(Actor actor, Guid backupId, string? confirmation, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.DeleteBackup, AuditActions.BackupDeleted, backupId.ToString(), ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var targetId = await db.Backups.Where(b => b.Id == backupId).Select(b => (Guid?)b.TargetId).FirstOrDefaultAsync(ct)
            ?? throw new KeyNotFoundException($"There is no backup with id {backupId}; it may have been removed already. Nothing was deleted.");

        // Retention must not work on the same backups meanwhile; what the record says is read once it holds them.
        await using var held = await locks.WaitAsync(ConsoleLocks.ForRetention(targetId), RetentionWait, time, ct);
        var record = await db.Backups.Include(b => b.Locations).Include(b => b.Target).AsSplitQuery().FirstAsync(b => b.Id == backupId, ct);
        var subject = $"{record.Target!.Name}/{record.FileName}";
        if (held is null)
        {
            return await RefuseAsync(actor, subject, $"Retention has been running for {record.Target.Name} for over {RetentionWait.TotalSeconds:0} seconds; try again when it has finished. Nothing was deleted.");
        }

        if (await RefusalAsync(db, record, confirmation, ct) is { } refusal)
        {
            return await RefuseAsync(actor, subject, refusal);
        }

        var (removed, problems) = await _objects.ExpireEverywhereAsync(record, "delete it again to remove the rest.", time.GetUtcNow(), ct);
        await db.SaveChangesAsync(CancellationToken.None);
        var where = BackupObjects.Describe(removed);
        var message = problems.Count == 0
            ? $"{record.FileName} was deleted from {where} with its manifest. The catalog keeps it as expired, for history."
            : $"{record.FileName} was removed from {where}, but not from every store: {string.Join(" ", problems)}";
        await audit.RecordAsync(actor, AuditActions.BackupDeleted, subject, problems.Count == 0 ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            $"Deleted by {actor.Name}: {message}", CancellationToken.None);
        logger.LogInformation("Backup {File} deleted by {Actor} from {Stores}; {Problems} problem(s)", record.FileName, actor.Name, where, problems.Count);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(message);
        }

        return new BackupDeleteResult(record.FileName, removed, message);
    }

    /// <summary>Why <paramref name="record"/> must not be deleted now; null when it may.</summary>
    private async Task<string?> RefusalAsync(ConsoleDbContext db, BackupRecord record, string? confirmation, CancellationToken ct)
    {
        if (!string.Equals(confirmation?.Trim(), record.FileName, StringComparison.Ordinal))
        {
            return $"Type the file name {record.FileName} exactly to confirm. Nothing was deleted.";
        }

        if (record.Status is BackupStatus.Queued or BackupStatus.Running)
        {
            return $"{record.FileName} is {record.Status.ToString().ToLowerInvariant()}; cancel it instead. Nothing was deleted.";
        }

        if ((await BackupReaders.ActiveAsync(db, [record.Id], ct)).GetValueOrDefault(record.Id) is { } reader)
        {
            return $"{record.FileName} is needed by {reader}; wait for it to end, or cancel it. Nothing was deleted.";
        }

        if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored or BackupStatus.Unverifiable))
        {
            return $"{record.FileName} is {record.Status.ToString().ToLowerInvariant()}: it has no file to delete. Nothing was deleted.";
        }

        if (record.Pinned)
        {
            return $"{record.FileName} is pinned. Unpin it first if it really is no longer needed. Nothing was deleted.";
        }

        if (record.SetId is not null)
        {
            return $"{record.FileName} is a member of a backup set: deleting it alone would leave the set unable to restore. Retention removes sets whole. Nothing was deleted.";
        }

        if (verifications is not null && record.Status != BackupStatus.Unverifiable)
        {
            var passes = await verifications.LastPassesAsync(record.TargetId, ct);
            var newestVerified = await db.Backups.AsNoTracking()
                .Where(b => b.TargetId == record.TargetId && b.DatabaseName == record.DatabaseName
                    && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
                .OrderByDescending(b => b.CreatedAt)
                .Select(b => b.Id)
                .ToListAsync(ct);
            if (newestVerified.FirstOrDefault(passes.ContainsKey) is var id && id == record.Id)
            {
                return $"{record.FileName} is the newest verified backup of its database: the last one a restore is known to work from. Verify a newer backup first. Nothing was deleted.";
            }
        }

        return null;
    }

    private async Task<BackupDeleteResult> RefuseAsync(Actor actor, string subject, string message)
    {
        await audit.RecordAsync(actor, AuditActions.BackupDeleted, subject, AuditOutcome.Failed, message, CancellationToken.None);
        throw new InvalidOperationException(message);
    }
}
