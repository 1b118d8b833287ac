using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Backups;

/// <summary>Reads the backup catalog, newest first; a running backup shows the progress its run last recorded.</summary>
public sealed class BackupCatalogQueries(IDbContextFactory<ConsoleDbContext> dbFactory)
{
    public async Task<BackupPage> QueryAsync(BackupQuery query, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Backups.AsNoTracking();
        if (query.TargetId is { } t)
        {
            q = q.Where(b => b.TargetId == t);
        }

        if (query.BackupId is { } id)
        {
            q = q.Where(b => b.Id == id);
        }

        if (query.Status is { } s)
        {
            q = q.Where(b => b.Status == s);
        }

        var total = await q.CountAsync(ct);
        var page = q.OrderByDescending(b => b.CreatedAt).Skip(query.Page * query.PageSize).Take(query.PageSize);
        var items = await (
            from b in page
            join r in db.Set<RunRecord>() on b.Id equals r.Id into runs
            from r in runs.DefaultIfEmpty()
            orderby b.CreatedAt descending
            select new BackupListItem(b.Id, b.TargetId, b.Target!.Name, b.FileName, b.Status, b.Trigger, b.RequestedBy, b.CreatedAt,
                b.StartedAt, b.FinishedAt, b.Status == BackupStatus.Running && r != null ? r.ProgressDone : b.BytesWritten, b.SizeBytes, b.Sha256, b.Error, b.Pinned, b.Tier)
            {
                Phase = r == null ? null : r.Phase,
                ExpectedBytes = r == null ? null : r.ProgressTotal,
                SetId = b.SetId,
            }).ToListAsync(ct);
        return new BackupPage(items, total);
    }

    public async Task<BackupDetails?> GetAsync(Guid backupId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var b = await db.Backups.AsNoTracking().Include(x => x.Target).Include(x => x.TableCounts).Include(x => x.Locations)
            .AsSplitQuery().FirstOrDefaultAsync(x => x.Id == backupId, ct);
        if (b is null)
        {
            return null;
        }

        var item = new BackupListItem(b.Id, b.TargetId, b.Target!.Name, b.FileName, b.Status, b.Trigger, b.RequestedBy, b.CreatedAt,
            b.StartedAt, b.FinishedAt, b.BytesWritten, b.SizeBytes, b.Sha256, b.Error, b.Pinned, b.Tier) { SetId = b.SetId };
        var tables = DatabaseInspector.Order(b.TableCounts.Select(c => new TableRowCount(c.Schema, c.Table, c.Rows)))
            .Select(c => new ManifestTableCount(c.Schema, c.Table, c.Rows)).ToList();
        return new BackupDetails(item, tables, [.. b.Locations.Select(l => new BackupLocationInfo(l.Store, l.Key, l.StorageClass, l.StoredAt))],
            b.Format, b.Compression, b.ServerVersion, b.PgDumpVersion, b.SchemaVersion);
    }
}
