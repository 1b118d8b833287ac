using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Deployments;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Sets;

/// <summary>How well one deployment is protected, as the Dashboard shows it.</summary>
/// <param name="Protected">Databases its selection picks on the server (as last found).</param>
/// <param name="NewestGoodSet">The newest set in which every database was kept.</param>
/// <param name="LatestSet">The newest finished set, good or not.</param>
/// <param name="OldestMember">Of each protected database's newest kept dump, the oldest: the database whose data
/// is most at risk, and since when.</param>
/// <param name="FailingMembers">The databases that failed in the latest finished set, with why.</param>
/// <param name="NeverBackedUp">Protected databases without any kept dump yet (a tenant created since the last set).</param>
/// <param name="NotProtected">Databases found on the server and selected by nothing.</param>
/// <param name="Gone">Databases selected before and missing now.</param>
public sealed record DeploymentOverview(
    Guid TargetId,
    string Name,
    string? Server,
    IReadOnlyList<string> Protected,
    BackupSetListItem? NewestGoodSet,
    BackupSetListItem? LatestSet,
    (string Database, DateTimeOffset At)? OldestMember,
    IReadOnlyList<SetMemberState> FailingMembers,
    IReadOnlyList<string> NeverBackedUp,
    IReadOnlyList<string> NotProtected,
    IReadOnlyList<DeploymentDatabase> Gone,
    DateTimeOffset? LookedAt);

/// <summary>Reads each deployment's protection from the catalog and from what was last found on its server: a handful
/// of indexed queries per deployment, whatever the number of sets.</summary>
public sealed class DeploymentOverviewService(IDbContextFactory<ConsoleDbContext> dbFactory, SetQueries sets, SetMembers members)
{
    public async Task<IReadOnlyList<DeploymentOverview>> ListAsync(CancellationToken ct)
    {
        List<(Guid Id, string Name, string? Address)> deployments;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            deployments = (await db.Targets.AsNoTracking().Where(t => t.RetiredAt == null).OrderBy(t => t.Name)
                .Select(t => new { t.Id, t.Name, t.DisplayAddress }).ToListAsync(ct)).Select(t => (t.Id, t.Name, t.DisplayAddress)).ToList();
        }

        var list = new List<DeploymentOverview>();
        foreach (var (id, name, address) in deployments)
        {
            list.Add(await OfAsync(id, name, address, ct));
        }

        return list;
    }

    private async Task<DeploymentOverview> OfAsync(Guid targetId, string name, string? address, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var found = await db.Set<DeploymentDatabase>().AsNoTracking().Where(d => d.TargetId == targetId).ToListAsync(ct);
        var protectedNames = found.Where(d => d.State == DeploymentDatabaseState.Protected).Select(d => d.Name).Order(StringComparer.Ordinal).ToList();
        var newestKept = await db.Backups.AsNoTracking()
            .Where(b => b.TargetId == targetId && b.DatabaseName != null && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
            .GroupBy(b => b.DatabaseName!)
            .Select(g => new { Database = g.Key, At = g.Max(b => b.StartedAt) })
            .ToDictionaryAsync(x => x.Database, x => x.At, ct);
        var goodSetId = await db.Set<BackupSet>().Where(s => s.TargetId == targetId && s.Status == BackupSetStatus.Succeeded)
            .OrderByDescending(s => s.CreatedAt).Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct);
        var latestSetId = await db.Set<BackupSet>()
            .Where(s => s.TargetId == targetId && (s.Status == BackupSetStatus.Succeeded || s.Status == BackupSetStatus.Partial || s.Status == BackupSetStatus.Failed))
            .OrderByDescending(s => s.CreatedAt).Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct);

        var withDumps = protectedNames.Where(n => newestKept.GetValueOrDefault(n) is not null).ToList();
        (string, DateTimeOffset)? oldest = withDumps.Count == 0 ? null
            : withDumps.Select(n => (n, newestKept[n]!.Value)).MinBy(x => x.Value);
        var latest = latestSetId is { } l ? (await sets.GetAsync(l, ct))?.Set : null;
        var failing = latestSetId is { } f && latest?.Status is BackupSetStatus.Partial or BackupSetStatus.Failed
            ? [.. (await members.LatestAsync(f, ct)).Where(m => !m.Kept)]
            : (IReadOnlyList<SetMemberState>)[];
        return new DeploymentOverview(
            targetId,
            name,
            address,
            protectedNames,
            goodSetId is { } g ? (goodSetId == latestSetId ? latest : (await sets.GetAsync(g, ct))?.Set) : null,
            latest,
            oldest,
            failing,
            [.. protectedNames.Where(n => newestKept.GetValueOrDefault(n) is null)],
            [.. found.Where(d => d.State == DeploymentDatabaseState.NotProtected).Select(d => d.Name).Order(StringComparer.Ordinal)],
            [.. found.Where(d => d.State == DeploymentDatabaseState.Gone).OrderBy(d => d.Name, StringComparer.Ordinal)],
            found.Count == 0 ? null : found.Max(d => d.LastSeenAt));
    }
}
