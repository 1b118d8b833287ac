using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>What deleting a set did: how many member files went, and from which stores.</summary>
public sealed record SetDeleteResult(string Name, int Dumps, IReadOnlyList<string> Stores, string Message);

/// <summary>Deletes a whole backup set at an administrator's request, as retention expires one: every member's dump and
/// manifest and the set's roles file and manifest, from every store; the catalog keeps the set and its members as
/// expired, for history. Refused (nothing deleted) unless the administrator typed the set's name, and for a queued or
/// running set, one whose dumps a verification or restore needs, a pinned one, and one retention would never expire for safety: the newest verified backup of the
/// deployment, or a set holding the newest verified dump of one of its databases.</summary>
public sealed class SetDeletionService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    SetRetention setFiles,
    IAuditLog audit,
    CallerGate gate,
    ConsoleLocks locks,
    TimeProvider time,
    ILogger<SetDeletionService> logger,
    IBackupVerificationHistory? verifications = null)
{
    private readonly BackupObjects _objects = new(stores, logger);
    private const string AfterFailure = "delete the set again to remove the rest.";

    /// <param name="confirmation">The set's name as the administrator typed it.</param>
    public async Task<SetDeleteResult> DeleteAsync(Actor actor, Guid setId, string? confirmation, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.DeleteBackup, AuditActions.SetDeleted, setId.ToString(), ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var targetId = await db.Set<BackupSet>().Where(s => s.Id == setId).Select(s => (Guid?)s.TargetId).FirstOrDefaultAsync(ct)
            ?? throw new KeyNotFoundException($"There is no backup set with id {setId}; it may have been removed already. Nothing was deleted.");

        // Retention must not work on the same sets meanwhile; what the catalog says is read once the lock is held.
        await using var held = await locks.WaitAsync(ConsoleLocks.ForRetention(targetId), BackupDeletionService.RetentionWait, time, ct);
        var set = await db.Set<BackupSet>().Include(s => s.Target).FirstAsync(s => s.Id == setId, ct);
        var subject = $"{set.Target!.Name}/{set.Name}";
        if (held is null)
        {
            return await RefuseAsync(actor, subject, $"Retention has been running for {set.Target.Name} for over {BackupDeletionService.RetentionWait.TotalSeconds:0} seconds; try again when it has finished. Nothing was deleted.");
        }

        var records = await db.Backups.Include(b => b.Locations)
            .Where(b => b.TargetId == targetId && b.Status != BackupStatus.Expired)
            .AsSplitQuery()
            .ToListAsync(ct);
        if (await RefusalAsync(db, set, records, confirmation, ct) is { } refusal)
        {
            return await RefuseAsync(actor, subject, refusal);
        }

        var members = records.Where(r => r.SetId == set.Id).ToList();
        var removedFrom = new SortedSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        var dumps = members.Count(SetRetention.IsKept);
        var deleted = 0;
        foreach (var member in members)
        {
            var kept = SetRetention.IsKept(member);
            var (removed, own) = await _objects.ExpireEverywhereAsync(member, AfterFailure, time.GetUtcNow(), ct);
            removedFrom.UnionWith(removed);
            deleted += own.Count == 0 && kept ? 1 : 0;
            await db.SaveChangesAsync(CancellationToken.None);
            problems.AddRange(own);
            await audit.RecordAsync(actor, AuditActions.BackupDeleted, $"{set.Target.Name}/{member.FileName}", own.Count == 0 ? AuditOutcome.Succeeded : AuditOutcome.Failed,
                own.Count == 0 ? $"Deleted by {actor.Name} with its set {set.Name}." : string.Join(" ", own), CancellationToken.None);
        }

        // The set's own files go last, and only once no member is left: while they remain, the set still describes them.
        if (problems.Count == 0)
        {
            problems.AddRange(await setFiles.DeleteSetFilesAsync(set, setFiles.AllStores, CancellationToken.None));
        }

        if (problems.Count == 0)
        {
            set.Status = BackupSetStatus.Expired;
            set.ExpiredAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
        }

        var where = BackupObjects.Describe(removedFrom);
        var message = problems.Count == 0
            ? $"{set.Name} was deleted: {deleted} database dump(s) with their manifests, the roles file and the set manifest, from {where}. The catalog keeps it as expired, for history."
            : $"{set.Name} was only partly deleted ({deleted} of its {dumps} database dump(s) removed); the set stays listed until the rest is gone: {string.Join(" ", problems)}";
        await audit.RecordAsync(actor, AuditActions.SetDeleted, subject, problems.Count == 0 ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            $"Deleted by {actor.Name}: {message}", CancellationToken.None);
        logger.LogInformation("Set {Set} deleted by {Actor}: {Members} member(s) from {Stores}; {Problems} problem(s)", set.Name, actor.Name, deleted, where, problems.Count);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(message);
        }

        return new SetDeleteResult(set.Name, deleted, [.. removedFrom], message);
    }

    /// <summary>Why <paramref name="set"/> must not be deleted now; null when it may.</summary>
    private async Task<string?> RefusalAsync(ConsoleDbContext db, BackupSet set, IReadOnlyList<BackupRecord> records, string? confirmation, CancellationToken ct)
    {
        if (!string.Equals(confirmation?.Trim(), set.Name, StringComparison.Ordinal))
        {
            return $"Type the set's name {set.Name} exactly to confirm. Nothing was deleted.";
        }

        var members = records.Where(r => r.SetId == set.Id).ToList();
        if (set.IsActive || members.Any(m => m.Status is BackupStatus.Queued or BackupStatus.Running))
        {
            return $"{set.Name} is {(set.IsActive ? set.Status.ToString().ToLowerInvariant() : "running a retry")}; cancel it instead, or wait for it to end. Nothing was deleted.";
        }

        var readers = await BackupReaders.ActiveAsync(db, [.. members.Select(m => m.Id)], ct);
        if (readers.Count > 0)
        {
            var needed = members.Where(m => readers.ContainsKey(m.Id)).Select(m => $"{m.FileName} by {readers[m.Id]}");
            return $"{set.Name} is needed now: {string.Join("; ", needed)}. Wait for {(readers.Count == 1 ? "it" : "them")} to end, or cancel {(readers.Count == 1 ? "it" : "them")}. Nothing was deleted.";
        }

        if (set.Status == BackupSetStatus.Expired)
        {
            return $"{set.Name} was already deleted; the catalog keeps it for history only. Nothing was deleted.";
        }

        if (set.Pinned)
        {
            return $"{set.Name} is pinned. Unpin it first if it really is no longer needed. Nothing was deleted.";
        }

        if (verifications is null)
        {
            return null;
        }

        // The same notion of "verified" retention keeps whatever its policy says: a set is verified when all its kept
        // members passed, and a database's newest verified dump is its newest kept one that passed.
        var passes = await verifications.LastPassesAsync(set.TargetId, ct);
        var sets = await db.Set<BackupSet>().AsNoTracking().Where(s => s.TargetId == set.TargetId && s.Status != BackupSetStatus.Expired).ToListAsync(ct);
        var newestVerified = SetRetention.Candidates(records, sets, passes)
            .Where(c => c.Status == RetentionCandidateStatus.Succeeded && c.Verified)
            .MaxBy(c => c.CreatedAt);
        if (newestVerified?.Id == set.Id)
        {
            return $"{set.Name} is the newest verified backup of {set.Target!.Name}: the last one a restore is known to work from. Verify a newer set first. Nothing was deleted.";
        }

        var holds = members.Where(SetRetention.IsKept).Select(m => m.DatabaseName).OfType<string>().Distinct(StringComparer.Ordinal)
            .Where(database => records.Where(r => r.DatabaseName == database && SetRetention.IsKept(r) && passes.ContainsKey(r.Id))
                .MaxBy(r => r.CreatedAt)?.SetId == set.Id)
            .Order(StringComparer.Ordinal)
            .ToList();
        return holds.Count == 0
            ? null
            : $"{set.Name} holds the newest verified backup of {string.Join(", ", holds)}: the last one a restore of {(holds.Count == 1 ? "that database" : "those databases")} is known to work from. Verify a newer set first. Nothing was deleted.";
    }

    private async Task<SetDeleteResult> RefuseAsync(Actor actor, string subject, string message)
    {
        await audit.RecordAsync(actor, AuditActions.SetDeleted, subject, AuditOutcome.Failed, message, CancellationToken.None);
        throw new InvalidOperationException(message);
    }
}
