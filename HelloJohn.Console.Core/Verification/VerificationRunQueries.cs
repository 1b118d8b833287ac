using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Reads verifications (with their runs), newest first, and each backup's latest outcome.</summary>
public sealed class VerificationRunQueries(IDbContextFactory<ConsoleDbContext> dbFactory)
{
    public async Task<VerificationRunPage> QueryAsync(int page, int pageSize, Guid? backupId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<VerificationRun>().AsNoTracking();
        if (backupId is { } b)
        {
            q = q.Where(r => r.BackupId == b);
        }

        var total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(r => r.Run!.CreatedAt).Skip(page * pageSize).Take(pageSize)
            .Select(r => new { Verification = r, r.Run, TargetName = r.Run!.Target!.Name }).ToListAsync(ct);
        return new VerificationRunPage([.. rows.Select(r => Item(r.Verification, r.Run!, r.TargetName))], total);
    }

    public async Task<VerificationRunDetails?> GetAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var r = await db.Set<VerificationRun>().AsNoTracking().Include(x => x.Run).ThenInclude(x => x!.Target).Include(x => x.Tables).AsSplitQuery()
            .FirstOrDefaultAsync(x => x.Id == runId, ct);
        if (r is null)
        {
            return null;
        }

        var tables = RunTableCounts.ToComparison(r.Tables);
        return new VerificationRunDetails(Item(r, r.Run!, r.Run!.Target?.Name), tables);
    }

    private static VerificationRunItem Item(VerificationRun r, RunRecord run, string? targetName) => new(
        r.Id, r.BackupId, r.BackupFileName, targetName ?? "", r.DatabaseName, r.Server, (VerificationStatus)run.Status, r.Trigger, run.PhaseOr(RestorePhase.Done),
        run.RequestedBy, run.CreatedAt, run.StartedAt, run.FinishedAt, r.ChecksDuration, r.RestoreDuration, r.CountDuration, r.Jobs, r.RowsCounted,
        r.FailedCheck, run.Error, r.DatabaseDropped, r.Leftovers)
    {
        Lifecycle = run.ToView(targetName),
    };

    /// <summary>The latest verification outcome of each backup, for the badges in the Backups grid.</summary>
    public async Task<IReadOnlyDictionary<Guid, VerificationBadge>> LatestForBackupsAsync(IReadOnlyCollection<Guid> backupIds, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var runs = await db.Set<VerificationRun>().AsNoTracking()
            .Where(r => r.BackupId != null && backupIds.Contains(r.BackupId.Value))
            .Select(r => new { BackupId = r.BackupId!.Value, r.Run!.Status, r.Run.CreatedAt, r.Run.FinishedAt, r.Run.Error })
            .ToListAsync(ct);
        var badges = new Dictionary<Guid, VerificationBadge>();
        foreach (var id in backupIds)
        {
            var mine = runs.Where(r => r.BackupId == id).ToList();
            var inProgress = mine.Any(r => r.Status is RunStatus.Queued or RunStatus.Running);
            // A cancelled run proves nothing either way; the latest pass or fail decides.
            var latest = mine.Where(r => r.Status is RunStatus.Succeeded or RunStatus.Failed).MaxBy(r => r.CreatedAt);
            badges[id] = latest is null
                ? VerificationBadge.Never with { InProgress = inProgress }
                : new VerificationBadge(latest.Status == RunStatus.Succeeded ? VerificationBadgeState.Verified : VerificationBadgeState.Failed,
                    latest.FinishedAt, inProgress, latest.Error);
        }

        return badges;
    }
}
