using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using Humanizer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Before a backup starts: a local store whose free space is less than the target's previous backup cannot
/// hold this one, so it is not even started there. The store stays in the list, refusing with the figures, so the
/// pipeline reports it like any store that failed: with other stores the backup goes on without it (partially stored);
/// alone, the backup fails before anything is opened on the database or written.</summary>
public sealed class BackupSpaceCheck(IDbContextFactory<ConsoleDbContext> dbFactory, ILogger<BackupSpaceCheck> logger)
{
    public async Task<IReadOnlyList<IBackupStore>> WithRoomAsync(BackupRecord record, IReadOnlyList<IBackupStore> destinations, CancellationToken ct)
    {
        if (!destinations.OfType<LocalDiskBackupStore>().Any())
        {
            return destinations;
        }

        long? previous;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            previous = await db.Backups.AsNoTracking()
                .Where(b => b.TargetId == record.TargetId && b.Id != record.Id && b.SizeBytes != null
                    && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
                .OrderByDescending(b => b.CreatedAt)
                .Select(b => b.SizeBytes)
                .FirstOrDefaultAsync(ct);
        }

        if (previous is not { } needed)
        {
            return destinations;
        }

        return [.. destinations.Select(store => store is LocalDiskBackupStore local && Shortfall(local, needed) is { } message ? new StoreWithoutRoom(local, message) : store)];
    }

    private string? Shortfall(LocalDiskBackupStore store, long needed)
    {
        long available;
        try
        {
            available = store.AvailableBytes();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Unknown is not short: the write itself will tell.
            return null;
        }

        if (available >= needed)
        {
            return null;
        }

        logger.LogWarning("Store {Store} has {Available} bytes free, less than the previous backup's {Needed}: not writing to it", store.Name, available, needed);
        return $"Not started in store '{store.Name}': its folder {store.Directory} has {available.Bytes().Humanize("0.#")} free and the previous backup of this target took {needed.Bytes().Humanize("0.#")}. Nothing was written there. Free space on that disk or set Storage__Local__Directory to a larger one, then back up again.";
    }

    /// <summary>A local store that refuses new uploads with the free-space figures; reads and deletes still reach it.</summary>
    private sealed class StoreWithoutRoom(LocalDiskBackupStore store, string message) : IBackupStore
    {
        public string Name => store.Name;

        public Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken ct) => throw new InsufficientSpaceException(message);

        public Task<Stream> OpenReadAsync(string key, CancellationToken ct) => store.OpenReadAsync(key, ct);

        public Task PutSmallAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct) => store.PutSmallAsync(key, content, ct);

        public Task<bool> ExistsAsync(string key, CancellationToken ct) => store.ExistsAsync(key, ct);

        public Task DeleteAsync(string key, CancellationToken ct) => store.DeleteAsync(key, ct);

        public IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken ct) => store.ListAsync(prefix, ct);

        public Task<int> DiscardUnfinishedAsync(string key, CancellationToken ct) => store.DiscardUnfinishedAsync(key, ct);
    }
}

/// <summary>A store was not used because it clearly has no room for the backup.</summary>
public sealed class InsufficientSpaceException(string message) : IOException(message);
