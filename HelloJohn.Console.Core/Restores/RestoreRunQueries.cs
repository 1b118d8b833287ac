using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Reads restores (with their runs), newest first, and the backups a restore may start from.</summary>
public sealed class RestoreRunQueries(IDbContextFactory<ConsoleDbContext> dbFactory, TargetService targets)
{
    public async Task<RestoreRunPage> QueryAsync(int page, int pageSize, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<RestoreRun>().AsNoTracking();
        var total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(r => r.Run!.CreatedAt).Skip(page * pageSize).Take(pageSize)
            .Select(r => new { Restore = r, r.Run, TargetName = r.Run!.Target!.Name }).ToListAsync(ct);
        return new RestoreRunPage([.. rows.Select(r => Item(r.Restore, r.Run!, r.TargetName))], total);
    }

    public async Task<RestoreRunDetails?> GetAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var r = await db.Set<RestoreRun>().AsNoTracking().Include(x => x.Run).ThenInclude(x => x!.Target).Include(x => x.Tables).AsSplitQuery()
            .FirstOrDefaultAsync(x => x.Id == runId, ct);
        if (r is null)
        {
            return null;
        }

        var safetyFile = r.SafetyBackupId is { } sid ? await db.Backups.Where(b => b.Id == sid).Select(b => b.FileName).FirstOrDefaultAsync(ct) : null;
        var tables = RunTableCounts.ToComparison(r.Tables);
        return new RestoreRunDetails(Item(r, r.Run!, r.Run!.Target?.Name ?? ""), tables, safetyFile);
    }

    private static RestoreRunItem Item(RestoreRun r, RunRecord run, string? targetName) => new(
        r.Id, r.BackupId, r.BackupFileName, targetName ?? "", r.Mode, r.DatabaseName, r.Server, r.ReplaceExisting,
        (RestoreStatus)run.Status, run.PhaseOr(RestorePhase.Done), run.RequestedBy, run.CreatedAt, run.StartedAt, run.FinishedAt, r.RestoreStartedAt,
        r.ChecksDuration, r.SafetyBackupDuration, r.RestoreDuration, r.CountDuration, r.SafetyBackupId, r.Jobs, r.CountsMatch, r.RowsRestored, r.FailedCheck, run.Error)
    {
        Lifecycle = run.ToView(targetName),
    };

    /// <summary>Backups that can be restored, newest first, for the dialog's picker.</summary>
    public async Task<IReadOnlyList<RestorableBackup>> ListRestorableAsync(int take, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Backups.AsNoTracking()
            .Where(b => b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored)
            .OrderByDescending(b => b.CreatedAt).Take(take)
            .Select(b => new { b.Id, b.FileName, b.CreatedAt, b.SizeBytes, b.Trigger, b.TargetId, b.DatabaseName, TargetName = b.Target!.Name })
            .ToListAsync(ct);
        var targetIds = rows.Select(r => r.TargetId).Distinct().ToList();
        var unconnected = (await db.Targets.AsNoTracking().Where(t => targetIds.Contains(t.Id) && t.ConnectionSource == TargetConnectionSource.Unset)
            .Select(t => t.Id).ToListAsync(ct)).ToHashSet();
        var liveNames = new Dictionary<Guid, string>();
        foreach (var targetId in rows.Where(r => r.DatabaseName is null && !unconnected.Contains(r.TargetId)).Select(r => r.TargetId).Distinct())
        {
            liveNames[targetId] = (await targets.GetConnectionAsync(targetId, ct)).Database ?? "";
        }

        // A set's member is of its own database; an older backup of the one its deployment's connection names (unknown
        // while a rebuilt target has no connection).
        return [.. rows.Select(r => new RestorableBackup(r.Id, r.FileName, r.CreatedAt, r.SizeBytes, r.Trigger, r.TargetName,
            r.DatabaseName ?? liveNames.GetValueOrDefault(r.TargetId, "")) { TargetHasConnection = !unconnected.Contains(r.TargetId) })];
    }
}
