using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Backups;

/// <summary>The verifications and restores that read backup files now, or are queued to: a file they need stays where it
/// is until they end, whether an administrator deletes it or retention would expire it.</summary>
internal static class BackupReaders
{
    /// <summary>For each backup of <paramref name="backupIds"/> that a queued or running verification or restore reads,
    /// what reads it, in words ("a running restore into hellojohn_copy").</summary>
    public static async Task<IReadOnlyDictionary<Guid, string>> ActiveAsync(ConsoleDbContext db, IReadOnlyCollection<Guid> backupIds, CancellationToken ct)
    {
        var readers = new Dictionary<Guid, string>();
        if (backupIds.Count == 0)
        {
            return readers;
        }

        var verifying = await db.Set<VerificationRun>().AsNoTracking()
            .Where(v => v.BackupId != null && backupIds.Contains(v.BackupId.Value) && (v.Run!.Status == RunStatus.Queued || v.Run.Status == RunStatus.Running))
            .Select(v => new { Backup = v.BackupId!.Value, v.Run!.Status })
            .ToListAsync(ct);
        var restoring = await db.Set<RestoreRun>().AsNoTracking()
            .Where(r => r.BackupId != null && backupIds.Contains(r.BackupId.Value) && (r.Run!.Status == RunStatus.Queued || r.Run.Status == RunStatus.Running))
            .Select(r => new { Backup = r.BackupId!.Value, r.Run!.Status, r.DatabaseName })
            .ToListAsync(ct);
        foreach (var r in restoring)
        {
            readers.TryAdd(r.Backup, $"a {r.Status.ToString().ToLowerInvariant()} restore into {r.DatabaseName}");
        }

        foreach (var v in verifying)
        {
            readers.TryAdd(v.Backup, $"a {v.Status.ToString().ToLowerInvariant()} verification");
        }

        return readers;
    }
}
