using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Backups;

/// <summary>An open backup file, streamed from one of its stores. Dispose it when the copy is done.</summary>
public sealed record BackupDownload(string FileName, long? SizeBytes, string? Sha256, string Store, Stream Content) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>Hands out a backup's bytes to an administrator. A dump holds every user's data, password hashes included:
/// only <see cref="ConsolePermission.DownloadBackup"/> (Admin) may read it, and every download is audited.</summary>
public sealed class BackupDownloadService(IDbContextFactory<ConsoleDbContext> dbFactory, IBackupStoreRegistry stores, IAuditLog audit)
{
    /// <param name="via">How it was asked for ("API token hjc_ab12…"), for the audit trail.</param>
    public async Task<BackupDownload> OpenAsync(Actor actor, Guid backupId, string via, CancellationToken ct)
    {
        if (!actor.Has(ConsolePermission.DownloadBackup))
        {
            await audit.RecordAsync(actor, AuditActions.BackupDownloaded, backupId.ToString(), AuditOutcome.Denied, $"{via}; nothing was read", ct);
            actor.Demand(ConsolePermission.DownloadBackup);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.Backups.AsNoTracking().Include(b => b.Locations).FirstOrDefaultAsync(b => b.Id == backupId, ct)
            ?? throw new KeyNotFoundException($"There is no backup with id {backupId}. Nothing was read.");
        if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            throw new InvalidOperationException($"{record.FileName} is {record.Status.ToString().ToLowerInvariant()}: it has no file to download. Nothing was read.");
        }

        // The local disk first: the cheapest to read and never a retrieval from an archive storage class.
        var location = record.Locations
            .Select(l => (Location: l, Store: stores.TryGet(l.Store, out var s) ? s : null))
            .Where(x => x.Store is not null)
            .OrderBy(x => x.Store is LocalDiskBackupStore ? 0 : 1)
            .FirstOrDefault();
        if (location.Store is null)
        {
            throw new InvalidOperationException($"No configured store holds {record.FileName} any more. Nothing was read.");
        }

        var stream = await location.Store.OpenReadAsync(location.Location.Key, ct);
        await audit.RecordAsync(actor, AuditActions.BackupDownloaded, record.FileName, AuditOutcome.Succeeded,
            $"{via}; from store '{location.Store.Name}', {record.SizeBytes ?? 0} bytes", CancellationToken.None);
        return new BackupDownload(record.FileName, record.SizeBytes, record.Sha256, location.Store.Name, stream);
    }
}
