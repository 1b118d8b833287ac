using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Restores;

/// <summary>A backup file that passed every check, ready for pg_restore. A downloaded copy is deleted on dispose.</summary>
public sealed class CheckedArchive(string path, bool temporary, string store, BackupManifest manifest, int tableDataEntries) : IAsyncDisposable
{
    public string Path => path;
    public string Store => store;
    public BackupManifest Manifest => manifest;
    /// <summary>How many tables' data the archive holds (its TABLE DATA entries), for progress.</summary>
    public int TableDataEntries => tableDataEntries;
    /// <summary>How long each part of the checks took.</summary>
    public ArchiveCheckTimings Timings { get; init; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    public ValueTask DisposeAsync()
    {
        if (temporary)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // A leftover 0600 download in the work folder; the next start-up may remove it.
            }
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>The checks' time: catalog and manifest; the one read of the file (SHA-256, with a zstd backup unpacked or a
/// remote one downloaded on the way); <c>pg_restore --list</c>.</summary>
public sealed record ArchiveCheckTimings(TimeSpan CatalogAndManifest, TimeSpan ReadAndUnpack, TimeSpan List);

/// <summary>Proves a backup file is intact before it goes near a database: catalog entry, manifest, size and
/// SHA-256, and that this pg_restore can read the archive.</summary>
public sealed partial class BackupArchiveChecker(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    IPgToolRunner pgTools,
    IOptionsMonitor<RestoreOptions> options,
    ConsoleWorkFolder workFolder,
    ILogger<BackupArchiveChecker> logger)
{
    private const int MaxManifestBytes = 16 << 20;

    /// <summary>Runs every check; throws <see cref="ArchiveCheckFailedException"/> naming the first that fails.</summary>
    public async Task<CheckedArchive> CheckAsync(Guid backupId, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        BackupRecord? record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Backups.AsNoTracking().Include(b => b.Locations).FirstOrDefaultAsync(b => b.Id == backupId, ct);
        }

        if (record is null)
        {
            throw new ArchiveCheckFailedException(ArchiveCheck.Catalog, $"there is no backup {backupId} in the catalog.");
        }

        if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            throw new ArchiveCheckFailedException(ArchiveCheck.Catalog,
                $"{record.FileName} is {record.Status.ToString().ToLowerInvariant()}; only a finished backup can be restored.");
        }

        var (store, key) = PickCopy(record);
        var manifest = await ReadManifestAsync(store, key, record, ct);
        var manifestChecked = watch.Elapsed;

        BackupFileRead read;
        try
        {
            read = await BackupFileReader.ReadAsync(store, key, BackupCompression.IsZstd(manifest.Compression), WorkFolder(), ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArchiveCheckFailedException(ArchiveCheck.File,
                $"{key} could not be read from the '{store.Name}' store, or unpacked into {WorkFolder()} ({e.Message}).", e);
        }

        var fileRead = watch.Elapsed;
        var archive = new CheckedArchive(read.ArchivePath, read.Temporary, store.Name, manifest, 0);
        try
        {
            if (read.Size != manifest.SizeBytes)
            {
                throw new ArchiveCheckFailedException(ArchiveCheck.Checksum,
                    $"{key} in the '{store.Name}' store is {read.Size:N0} bytes but its manifest says {manifest.SizeBytes:N0}: the file is truncated or was changed.");
            }

            if (!string.Equals(read.Sha256, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArchiveCheckFailedException(ArchiveCheck.Checksum,
                    $"the SHA-256 of {key} in the '{store.Name}' store is {read.Sha256[..12]}…, its manifest says {manifest.Sha256[..12]}…: the file is corrupted.");
            }

            if (read.UnpackError is { } unpack)
            {
                throw new ArchiveCheckFailedException(ArchiveCheck.Archive, $"{key} could not be decompressed (zstd): {unpack.Message}.", unpack);
            }

            var list = await pgTools.RunAsync(new PgToolInvocation("pg_restore", ["--list", read.ArchivePath]), ct);
            if (!list.Succeeded)
            {
                throw new ArchiveCheckFailedException(ArchiveCheck.Archive,
                    $"pg_restore ({pgTools.Binaries.MajorVersion}) cannot read {key}: {list.ErrorSummary}.");
            }

            var entries = TableDataEntry().Matches(list.StandardOutputText).Count;
            var timings = new ArchiveCheckTimings(manifestChecked, fileRead - manifestChecked, watch.Elapsed - fileRead);
            logger.LogInformation("{File} passed its checks ({Store}, sha256 {Sha}, {Entries} tables of data): catalog and manifest {CatalogSeconds:0.00} s, " +
                "SHA-256 and unpacking {ReadSeconds:0.00} s, pg_restore --list {ListSeconds:0.00} s", key, store.Name, read.Sha256[..12], entries,
                timings.CatalogAndManifest.TotalSeconds, timings.ReadAndUnpack.TotalSeconds, timings.List.TotalSeconds);
            return new CheckedArchive(read.ArchivePath, read.Temporary, store.Name, manifest, entries) { Timings = timings };
        }
        catch
        {
            await archive.DisposeAsync();
            throw;
        }
    }

    // This process's own 0700 folder: what a crash leaves there is removed at the next start.
    private string WorkFolder() => workFolder.FolderUnder(options.CurrentValue.WorkDirectory);

    private (IBackupStore Store, string Key) PickCopy(BackupRecord record)
    {
        var configured = stores.All.ToDictionary(s => s.Name, StringComparer.Ordinal);
        // A local copy is read in place; a remote one has to be downloaded first.
        var copy = record.Locations
            .Where(l => configured.ContainsKey(l.Store))
            .OrderBy(l => configured[l.Store] is LocalDiskBackupStore ? 0 : 1)
            .FirstOrDefault();
        if (copy is null)
        {
            var where = record.Locations.Count == 0 ? "no recorded location" : "only in " + string.Join(", ", record.Locations.Select(l => l.Store));
            throw new ArchiveCheckFailedException(ArchiveCheck.Catalog,
                $"{record.FileName} has {where}, and none of that is a store configured on this console.");
        }

        return (configured[copy.Store], copy.Key);
    }

    private static async Task<BackupManifest> ReadManifestAsync(IBackupStore store, string key, BackupRecord record, CancellationToken ct)
    {
        var manifestKey = BackupManifest.KeyFor(key);
        byte[] bytes;
        try
        {
            if (!await store.ExistsAsync(manifestKey, ct))
            {
                throw new ArchiveCheckFailedException(ArchiveCheck.Manifest,
                    $"{manifestKey} is missing from the '{store.Name}' store, so the file's SHA-256 and row counts cannot be proven.");
            }

            await using var stream = await store.OpenReadAsync(manifestKey, ct);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxManifestBytes)
                {
                    throw new ArchiveCheckFailedException(ArchiveCheck.Manifest, $"{manifestKey} is larger than 16 MB; it is not a manifest this console wrote.");
                }
            }

            bytes = buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArchiveCheckFailedException(ArchiveCheck.Manifest, $"{manifestKey} could not be read from the '{store.Name}' store ({e.Message}).", e);
        }

        BackupManifest manifest;
        try
        {
            manifest = BackupManifest.Parse(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new ArchiveCheckFailedException(ArchiveCheck.Manifest, $"{manifestKey} cannot be used: {e.Message}", e);
        }

        if (manifest.BackupId != record.Id || !string.Equals(manifest.FileName, record.FileName, StringComparison.Ordinal))
        {
            throw new ArchiveCheckFailedException(ArchiveCheck.Manifest, $"{manifestKey} describes another backup ({manifest.FileName}).");
        }

        if (record.Sha256 is { } catalogSha && !string.Equals(catalogSha, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArchiveCheckFailedException(ArchiveCheck.Manifest, $"{manifestKey} gives a SHA-256 other than the catalog's: one of them was changed.");
        }

        return manifest;
    }

    // pg_restore --list: "3345; 0 16390 TABLE DATA public hj_user hellojohn"
    [GeneratedRegex(@"^\d+; \d+ \d+ TABLE DATA ", RegexOptions.Multiline)]
    private static partial Regex TableDataEntry();
}
