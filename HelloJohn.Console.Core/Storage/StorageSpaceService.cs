using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using Humanizer;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Free space of one local store, measured now, with what a person should know about it.</summary>
public sealed record LocalStoreSpace(string Store, string Directory, long? AvailableBytes, long? TotalBytes, long? NewestBackupBytes, bool? SharesDiskWithConsoleDatabase)
{
    /// <summary>The next backup will not be started here: there is less room than the newest backup took.</summary>
    public bool TooFullForNextBackup => AvailableBytes is { } free && NewestBackupBytes is { } needed && free < needed;

    public string Summary => AvailableBytes is { } free && TotalBytes is { } total
        ? $"{Store}: {free.Bytes().Humanize("0.#")} free of {total.Bytes().Humanize("0.#")}"
        : $"{Store}: free space unknown";

    public IReadOnlyList<string> Warnings
    {
        get
        {
            var warnings = new List<string>();
            if (TooFullForNextBackup)
            {
                warnings.Add($"Store '{Store}' ({Directory}) has {AvailableBytes!.Value.Bytes().Humanize("0.#")} free, less than the newest backup ({NewestBackupBytes!.Value.Bytes().Humanize("0.#")}): the next backup will not be written there. Free space or set Storage__Local__Directory to a larger disk.");
            }

            if (SharesDiskWithConsoleDatabase == true)
            {
                warnings.Add($"Store '{Store}' ({Directory}) is on the same filesystem as the console's own database: backups filling it stop the console, and one lost disk loses both. Put backups on another disk (Storage__Local__Directory) or keep a copy in S3.");
            }

            return warnings;
        }
    }
}

/// <summary>Free space of the local stores and the warnings that come with it, for /health and the Dashboard.</summary>
public sealed class StorageSpaceService(IBackupStoreRegistry stores, IDbContextFactory<ConsoleDbContext> dbFactory, ConsoleDatabaseLocation consoleDatabase)
{
    public async Task<IReadOnlyList<LocalStoreSpace>> GetAsync(CancellationToken ct)
    {
        var locals = stores.All.OfType<LocalDiskBackupStore>().ToList();
        if (locals.Count == 0)
        {
            return [];
        }

        long? newest;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            newest = await db.Backups.AsNoTracking()
                .Where(b => b.SizeBytes != null && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
                .OrderByDescending(b => b.CreatedAt).Select(b => b.SizeBytes).FirstOrDefaultAsync(ct);
        }

        var consoleData = await consoleDatabase.DataDirectoryAsync(ct);
        return [.. locals.Select(store =>
        {
            var (free, total) = Measure(store.Directory);
            var shared = consoleData is null ? null : FileSystemSpace.SameFileSystem(store.Directory, consoleData);
            return new LocalStoreSpace(store.Name, store.Directory, free, total, newest, shared);
        })];
    }

    private static (long? Free, long? Total) Measure(string directory)
    {
        try
        {
            return (FileSystemSpace.AvailableBytes(directory), FileSystemSpace.TotalBytes(directory));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (null, null);
        }
    }
}
