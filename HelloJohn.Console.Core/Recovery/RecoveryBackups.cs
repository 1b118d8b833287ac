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

    /// <summary>The last 30 finished backups of the run's target, newest first; the newest verified one is the default.</summary>
    public async Task<IReadOnlyList<BackupCandidate>> CandidatesAsync(RecoveryRun run, CancellationToken ct)
    {
        List<BackupRecord> backups;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backups = await db.Backups.AsNoTracking()
                .Where(b => b.TargetId == run.TargetId && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored) && b.StartedAt != null)
                .OrderByDescending(b => b.StartedAt).Take(30).ToListAsync(ct);
        }

        var verified = await VerifiedAsync(run.TargetId, ct);
        var (incident, _) = await measure.IncidentAsync(run, ct);
        var pick = backups.FirstOrDefault(b => verified.ContainsKey(b.Id)) ?? backups.FirstOrDefault();
        return [.. backups.Select(b => new BackupCandidate(b.Id, b.FileName, b.StartedAt!.Value, verified.TryGetValue(b.Id, out var v) ? v : null,
            b.ServerVersion, b.SizeBytes, incident - b.StartedAt!.Value, b.Id == pick?.Id))];
    }

    public async Task<DateTimeOffset?> VerifiedAtAsync(Guid targetId, Guid backupId, CancellationToken ct) =>
        (await VerifiedAsync(targetId, ct)).TryGetValue(backupId, out var at) ? at : null;

    // Provided by the verification feature; without it no backup counts as verified.
    private async Task<IReadOnlyDictionary<Guid, DateTimeOffset>> VerifiedAsync(Guid targetId, CancellationToken ct) =>
        verifications is null ? new Dictionary<Guid, DateTimeOffset>() : await verifications.LastPassesAsync(targetId, ct);

    /// <summary>The row counts the catalog holds for the run's chosen backup (taken in its snapshot).</summary>
    public async Task<IReadOnlyList<TableRowCount>> ExpectedCountsAsync(RecoveryRun run, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = await db.BackupTableCounts.AsNoTracking().Where(c => c.BackupId == run.BackupId).ToListAsync(ct);
        if (counts.Count == 0)
        {
            throw new RecoveryStepFailedException($"The catalog holds no row counts for {run.BackupFileName}, so the restore cannot be verified. Choose another backup.");
        }

        return DatabaseInspector.Order(counts.Select(c => new TableRowCount(c.Schema, c.Table, c.Rows)));
    }
}
