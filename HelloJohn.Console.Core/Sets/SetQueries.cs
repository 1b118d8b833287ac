using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Sets;

/// <summary>A set as lists show it; while it runs, its members' counts are live.</summary>
public sealed record BackupSetListItem(
    Guid Id,
    Guid TargetId,
    string TargetName,
    string Name,
    BackupSetStatus Status,
    BackupTrigger Trigger,
    string? RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int Members,
    int MembersKept,
    int MembersFailed,
    long? SizeBytes,
    bool Pinned,
    bool RolesKept,
    string? Error,
    IReadOnlyList<string> GoneDatabases)
{
    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
    public bool IsActive => Status is BackupSetStatus.Queued or BackupSetStatus.Running;
    public Guid CurrentRunId { get; init; }
    public string? Phase { get; init; }
}

/// <summary>One database of a set, as the expanded row shows it. <see cref="Retried"/>: a later attempt replaced it.</summary>
public sealed record BackupSetMemberItem(
    Guid BackupId,
    string Database,
    string FileName,
    BackupStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long BytesWritten,
    long? SizeBytes,
    string? Sha256,
    string? SchemaVersion,
    string? Error,
    bool Retried,
    string? Phase)
{
    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
    public bool Kept => Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored;
}

public sealed record BackupSetDetails(BackupSetListItem Set, IReadOnlyList<BackupSetMemberItem> Members, string? RolesFileName, long? RolesSizeBytes,
    string? RolesSha256, bool RolesWithPasswords, string? RolesNote);

/// <param name="SetId">Only this set (a notification's link to it).</param>
public sealed record BackupSetQuery(int Page = 0, int PageSize = 25, Guid? TargetId = null, BackupSetStatus? Status = null, Guid? SetId = null);

public sealed record BackupSetPage(IReadOnlyList<BackupSetListItem> Items, int TotalCount);

/// <summary>Reads sets, newest first, with their members' figures counted in one pass for the page shown.</summary>
public sealed class SetQueries(IDbContextFactory<ConsoleDbContext> dbFactory)
{
    public async Task<BackupSetPage> QueryAsync(BackupSetQuery query, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<BackupSet>().AsNoTracking();
        if (query.TargetId is { } t)
        {
            q = q.Where(s => s.TargetId == t);
        }

        if (query.SetId is { } id)
        {
            q = q.Where(s => s.Id == id);
        }

        if (query.Status is { } status)
        {
            q = q.Where(s => s.Status == status);
        }

        var total = await q.CountAsync(ct);
        var sets = await (
            from s in q.OrderByDescending(s => s.CreatedAt).Skip(query.Page * query.PageSize).Take(query.PageSize)
            join r in db.Set<RunRecord>() on s.CurrentRunId equals r.Id into runs
            from r in runs.DefaultIfEmpty()
            orderby s.CreatedAt descending
            select new { Set = s, TargetName = s.Target!.Name, Phase = r == null ? null : r.Phase }).ToListAsync(ct);
        var live = await LiveCountsAsync(db, [.. sets.Where(x => x.Set.IsActive).Select(x => x.Set.Id)], ct);
        return new BackupSetPage([.. sets.Select(x => Item(x.Set, x.TargetName, x.Phase, live))], total);
    }

    public async Task<BackupSetDetails?> GetAsync(Guid setId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var set = await db.Set<BackupSet>().AsNoTracking().Include(s => s.Target).FirstOrDefaultAsync(s => s.Id == setId, ct);
        if (set is null)
        {
            return null;
        }

        var phase = await db.Set<RunRecord>().Where(r => r.Id == set.CurrentRunId).Select(r => r.Phase).FirstOrDefaultAsync(ct);
        var live = await LiveCountsAsync(db, set.IsActive ? [set.Id] : [], ct);
        var rows = await (
            from b in db.Backups.AsNoTracking()
            where b.SetId == setId
            join r in db.Set<RunRecord>() on b.Id equals r.Id into runs
            from r in runs.DefaultIfEmpty()
            select new { b, Phase = r == null ? null : r.Phase, Progress = r == null ? 0 : r.ProgressDone }).ToListAsync(ct);
        var newest = rows.GroupBy(x => x.b.DatabaseName).ToDictionary(g => g.Key ?? "", g => g.Max(x => x.b.CreatedAt));
        var items = rows
            .Select(x => new BackupSetMemberItem(x.b.Id, x.b.DatabaseName ?? "", x.b.FileName, x.b.Status, x.b.CreatedAt, x.b.StartedAt, x.b.FinishedAt,
                x.b.Status == BackupStatus.Running ? x.Progress : x.b.BytesWritten, x.b.SizeBytes, x.b.Sha256, x.b.SchemaVersion, x.b.Error,
                x.b.CreatedAt < newest[x.b.DatabaseName ?? ""], x.Phase))
            .OrderBy(m => m.Retried).ThenBy(m => m.Kept).ThenBy(m => m.Database, StringComparer.Ordinal).ThenByDescending(m => m.CreatedAt)
            .ToList();
        return new BackupSetDetails(Item(set, set.Target!.Name, phase, live), items, set.RolesFileName, set.RolesSizeBytes, set.RolesSha256, set.RolesWithPasswords, set.RolesNote);
    }

    /// <summary>For sets still running: each one's members, kept and failed, from their latest attempts.</summary>
    private static async Task<Dictionary<Guid, (int Members, int Kept, int Failed)>> LiveCountsAsync(ConsoleDbContext db, IReadOnlyList<Guid> setIds, CancellationToken ct)
    {
        if (setIds.Count == 0)
        {
            return [];
        }

        var rows = await db.Backups.AsNoTracking().Where(b => b.SetId != null && setIds.Contains(b.SetId.Value))
            .Select(b => new { SetId = b.SetId!.Value, b.DatabaseName, b.Status, b.CreatedAt }).ToListAsync(ct);
        return rows.GroupBy(r => r.SetId).ToDictionary(g => g.Key, g =>
        {
            var latest = g.GroupBy(r => r.DatabaseName).Select(d => d.MaxBy(r => r.CreatedAt)!).ToList();
            return (latest.Count,
                latest.Count(r => r.Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored),
                latest.Count(r => r.Status is BackupStatus.Failed or BackupStatus.Cancelled));
        });
    }

    private static BackupSetListItem Item(BackupSet s, string targetName, string? phase, Dictionary<Guid, (int Members, int Kept, int Failed)> live)
    {
        var (members, kept, failed) = live.TryGetValue(s.Id, out var counts) ? counts : (s.MemberCount, s.MembersSucceeded, s.MemberCount - s.MembersSucceeded);
        return new BackupSetListItem(s.Id, s.TargetId, targetName, s.Name, s.Status, s.Trigger, s.RequestedBy, s.CreatedAt, s.StartedAt, s.FinishedAt,
            members, kept, s.Status == BackupSetStatus.Expired ? 0 : failed, s.SizeBytes, s.Pinned, s.RolesFileName is not null && !s.RolesFailed, s.Error, s.GoneDatabases)
        {
            CurrentRunId = s.CurrentRunId,
            Phase = s.IsActive ? phase : null,
        };
    }
}
