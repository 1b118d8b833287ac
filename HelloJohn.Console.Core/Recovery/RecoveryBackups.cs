using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Retention;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The backups a recovery can restore, as the wizards need them: the candidates with their age at the
/// incident, which passed a verification, and the row counts a restore must reach.</summary>
public sealed class RecoveryBackups(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RecoveryMeasure measure,
    IBackupVerificationHistory? verifications = null)
{
    /// <summary>The newest backup of the target that can be restored, or null.</summary>
    public async Task<BackupRecord?> NewestRestorableAsync(Guid targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Backups.AsNoTracking()
            .Where(b => b.TargetId == targetId && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
            .OrderByDescending(b => b.StartedAt).FirstOrDefaultAsync(ct);
    }

    /// <summary>A backup of the target by id, whatever its state; null when there is none.</summary>
    public async Task<BackupRecord?> FindAsync(Guid backupId, Guid? targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId && (targetId == null || b.TargetId == targetId), ct);
    }

    /// <summary>The last 30 finished backups of the run's target, newest first; the newest verified one is the default.
    /// A set is one candidate, shown by its name and represented by its member of the deployment's own database: choosing
    /// it restores the whole set.</summary>
    public async Task<IReadOnlyList<BackupCandidate>> CandidatesAsync(RecoveryRun run, CancellationToken ct)
    {
        List<BackupRecord> backups;
        Dictionary<Guid, string> setNames;
        string? mainDatabase;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backups = await db.Backups.AsNoTracking()
                .Where(b => b.TargetId == run.TargetId && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored) && b.StartedAt != null)
                .OrderByDescending(b => b.StartedAt).Take(600).ToListAsync(ct);
            var setIds = backups.Where(b => b.SetId != null).Select(b => b.SetId!.Value).Distinct().ToList();
            setNames = await db.Set<Sets.BackupSet>().Where(s => setIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Name, ct);
            mainDatabase = (await db.Targets.AsNoTracking().FirstAsync(t => t.Id == run.TargetId, ct)).Databases.FirstOrDefault();
        }

        var verified = await VerifiedAsync(run.TargetId, ct);
        // One line per set (all its members verified makes it verified, as of the oldest pass), one per backup outside sets.
        var lines = backups.Where(b => b.SetId is null).Select(b => (Backup: b, Name: b.FileName, VerifiedAt: verified.TryGetValue(b.Id, out var v) ? v : (DateTimeOffset?)null, Size: b.SizeBytes))
            .Concat(backups.Where(b => b.SetId is not null).GroupBy(b => b.SetId!.Value).Select(g =>
            {
                var members = g.ToList();
                var main = members.FirstOrDefault(m => m.DatabaseName == mainDatabase) ?? members.OrderBy(m => m.DatabaseName, StringComparer.Ordinal).First();
                DateTimeOffset? setVerified = members.All(m => verified.ContainsKey(m.Id)) ? members.Min(m => verified[m.Id]) : null;
                return (Backup: main, Name: $"{setNames.GetValueOrDefault(g.Key, main.FileName)} ({members.Count} database{(members.Count == 1 ? "" : "s")})",
                    VerifiedAt: setVerified, Size: (long?)members.Sum(m => m.SizeBytes ?? 0));
            }))
            .OrderByDescending(l => l.Backup.StartedAt).Take(30).ToList();
        var (incident, _) = await measure.IncidentAsync(run, ct);
        var pick = lines.FirstOrDefault(l => l.VerifiedAt is not null).Backup ?? lines.FirstOrDefault().Backup;
        return [.. lines.Select(l => new BackupCandidate(l.Backup.Id, l.Name, l.Backup.StartedAt!.Value, l.VerifiedAt,
            l.Backup.ServerVersion, l.Size, incident - l.Backup.StartedAt!.Value, l.Backup.Id == pick?.Id))];
    }

    /// <summary>The latest kept backup of each database of a set.</summary>
    public async Task<IReadOnlyList<BackupRecord>> KeptMembersAsync(Guid setId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var members = await db.Backups.AsNoTracking()
            .Where(b => b.SetId == setId && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored)).ToListAsync(ct);
        return [.. members.GroupBy(m => m.DatabaseName).Select(g => g.MaxBy(m => m.CreatedAt)!)];
    }

    public async Task<DateTimeOffset?> VerifiedAtAsync(Guid targetId, Guid backupId, CancellationToken ct) =>
        (await VerifiedAsync(targetId, ct)).TryGetValue(backupId, out var at) ? at : null;

    // Provided by the verification feature; without it no backup counts as verified.
    private async Task<IReadOnlyDictionary<Guid, DateTimeOffset>> VerifiedAsync(Guid targetId, CancellationToken ct) =>
        verifications is null ? new Dictionary<Guid, DateTimeOffset>() : await verifications.LastPassesAsync(targetId, ct);

    /// <summary>The row counts the catalog holds for the run's chosen backup (taken in its snapshot).</summary>
    public Task<IReadOnlyList<TableRowCount>> ExpectedCountsAsync(RecoveryRun run, CancellationToken ct) =>
        ExpectedCountsAsync(run.BackupId, run.BackupFileName, ct);

    /// <summary>The row counts the catalog holds for one backup (taken in its snapshot).</summary>
    public async Task<IReadOnlyList<TableRowCount>> ExpectedCountsAsync(Guid? backupId, string? fileName, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = await db.BackupTableCounts.AsNoTracking().Where(c => c.BackupId == backupId).ToListAsync(ct);
        if (counts.Count == 0)
        {
            throw new RecoveryStepFailedException($"The catalog holds no row counts for {fileName}, so the restore cannot be verified. Choose another backup.");
        }

        return DatabaseInspector.Order(counts.Select(c => new TableRowCount(c.Schema, c.Table, c.Rows)));
    }
}
