using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Restores a run's chosen backup into its new database, which may be on another server than the target's.
/// The file is proven first (manifest, size and SHA-256, <c>pg_restore --list</c>); until then nothing is written.</summary>
public sealed class RecoveryRestorer(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    IPgToolRunner pgTools,
    IOptionsMonitor<RecoveryOptions> options)
{
    private const int MaxManifestBytes = 16 << 20;

    public async Task RestoreAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var run = ctx.Run;
        if (run.BackupId is not { } backupId)
        {
            throw new RecoveryStepFailedException("No backup is chosen for this run. Nothing was restored.");
        }

        var into = new NpgsqlConnectionStringBuilder(ctx.NewConnection().ConnectionString) { Pooling = false };
        var (path, temporary, tables) = await ProveAsync(ctx, backupId, ct);
        try
        {
            if (run.CreateNewDatabase)
            {
                await CreateDatabaseAsync(ctx, into, ct);
            }

            // Over existing tables (confirmed) or after an earlier attempt wrote: drop what the dump holds first.
            var clean = run.NonEmptyConfirmed || run.RestoreWritten;
            List<string> args = ["--no-owner", "--exit-on-error", "--verbose", "--no-password"];
            if (clean)
            {
                args.AddRange(["--clean", "--if-exists"]);
            }

            var jobs = options.CurrentValue.RestoreJobs;
            if (jobs > 1)
            {
                args.Add($"--jobs={jobs}");
            }

            args.AddRange(["--dbname", into.Database!, path]);
            await ctx.LogAsync($"pg_restore into {into.Describe()}{(clean ? ", dropping the backup's objects first" : "")}, {jobs} job(s): {tables} tables of data.");
            run.RestoreWritten = true;
            var loaded = 0;
            var pending = new List<Task>();
            var result = await pgTools.RunAsync(new PgToolInvocation("pg_restore", args)
            {
                Connection = into,
                OnStandardErrorLine = line =>
                {
                    // pg_restore --verbose: 'pg_restore: processing data for table "public.hj_user"'
                    const string marker = "processing data for table \"";
                    var at = line.IndexOf(marker, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        var n = Interlocked.Increment(ref loaded);
                        lock (pending)
                        {
                            pending.Add(ctx.LogAsync($"Loaded {n}/{tables}: {line[(at + marker.Length)..].TrimEnd('"')}"));
                        }
                    }
                },
            }, ct);
            Task[] logged;
            lock (pending)
            {
                logged = [.. pending];
            }

            await Task.WhenAll(logged);
            if (!result.Succeeded)
            {
                throw new RecoveryStepFailedException($"pg_restore failed: {result.ErrorSummary}. {into.Database} on {into.Host}:{into.Port} may be partly restored; " +
                    "running the restore again drops the backup's objects first and restores them again.");
            }

            await ctx.LogAsync($"pg_restore finished in {RecoveryDurations.Describe(result.Duration)}.");
        }
        finally
        {
            if (temporary)
            {
                TryDelete(path);
            }
        }
    }

    /// <summary>Finds a copy in a configured store, reads its manifest and proves the file against it.</summary>
    private async Task<(string Path, bool Temporary, int Tables)> ProveAsync(RecoveryStepContext ctx, Guid backupId, CancellationToken ct)
    {
        BackupRecord? record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Backups.AsNoTracking().Include(b => b.Locations).FirstOrDefaultAsync(b => b.Id == backupId, ct);
        }

        if (record is null || record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            throw new RecoveryStepFailedException($"{ctx.Run.BackupFileName} is no longer a finished backup in the catalog. Nothing was restored. Choose another backup.");
        }

        var copy = record.Locations.Select(l => stores.TryGet(l.Store, out var s) ? (Store: s, l.Key) : default)
            .Where(c => c.Store is not null).OrderBy(c => c.Store is LocalDiskBackupStore ? 0 : 1).FirstOrDefault();
        if (copy.Store is null)
        {
            throw new RecoveryStepFailedException($"{record.FileName} is in no store configured on this console ({string.Join(", ", record.Locations.Select(l => l.Store))}). Nothing was restored.");
        }

        var manifest = await ReadManifestAsync(copy.Store, copy.Key, record, ct);
        await ctx.LogAsync($"Checking {copy.Key} in the '{copy.Store.Name}' store against its manifest.");
        var temporary = copy.Store is not LocalDiskBackupStore;
        var path = temporary ? Path.Combine(Path.GetTempPath(), $"hjc-recovery-{Guid.NewGuid():N}.dump") : ((LocalDiskBackupStore)copy.Store).PathOf(copy.Key);
        try
        {
            long size;
            string sha256;
            try
            {
                await using var source = await copy.Store.OpenReadAsync(copy.Key, ct);
                await using var file = temporary
                    ? new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.Write,
                        // The dump holds every user's password hash: readable by the console's user only.
                        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                    })
                    : null;
                await using var hasher = new FanOutStream(file is null ? [] : [file]);
                await source.CopyToAsync(hasher, 1 << 20, ct);
                await hasher.FlushAsync(ct);
                (size, sha256) = (hasher.BytesWritten, hasher.FinishHash());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RecoveryStepFailedException($"{copy.Key} could not be read from the '{copy.Store.Name}' store ({e.Message}). Nothing was restored.", e);
            }

            if (size != manifest.SizeBytes || !string.Equals(sha256, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new RecoveryStepFailedException($"{copy.Key} does not match its manifest (size {size:N0} vs {manifest.SizeBytes:N0} bytes, SHA-256 {sha256[..12]}… vs {manifest.Sha256[..12]}…): " +
                    "the file is damaged. Nothing was restored. Choose another backup.");
            }

            if (BackupCompression.IsZstd(manifest.Compression))
            {
                // pg_restore -j needs the plain, seekable archive: unpack it next to the download first.
                var archivePath = Path.Combine(Path.GetTempPath(), $"hjc-recovery-{Guid.NewGuid():N}.dump");
                try
                {
                    await BackupCompression.DecompressAsync(path, archivePath, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    TryDelete(archivePath);
                    throw new RecoveryStepFailedException($"{copy.Key} could not be decompressed (zstd): {e.Message}. Nothing was restored.", e);
                }

                if (temporary)
                {
                    TryDelete(path);
                }

                (path, temporary) = (archivePath, true);
            }

            var list = await pgTools.RunAsync(new PgToolInvocation("pg_restore", ["--list", path]), ct);
            if (!list.Succeeded)
            {
                throw new RecoveryStepFailedException($"pg_restore {pgTools.Binaries.MajorVersion} cannot read {copy.Key}: {list.ErrorSummary}. Nothing was restored.");
            }

            var tables = list.StandardOutputText.Split('\n').Count(l => l.Contains(" TABLE DATA ", StringComparison.Ordinal));
            await ctx.LogAsync($"{copy.Key}: {size:N0} bytes, SHA-256 {sha256[..12]}… matches the manifest; pg_restore --list reads it ({tables} tables of data).");
            return (path, temporary, tables);
        }
        catch
        {
            if (temporary)
            {
                TryDelete(path);
            }

            throw;
        }
    }

    private static async Task<BackupManifest> ReadManifestAsync(IBackupStore store, string key, BackupRecord record, CancellationToken ct)
    {
        var manifestKey = BackupManifest.KeyFor(key);
        byte[] bytes;
        try
        {
            if (!await store.ExistsAsync(manifestKey, ct))
            {
                throw new RecoveryStepFailedException($"{manifestKey} is missing from the '{store.Name}' store, so the file cannot be proven. Nothing was restored.");
            }

            await using var stream = await store.OpenReadAsync(manifestKey, ct);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct);
            if (buffer.Length > MaxManifestBytes)
            {
                throw new RecoveryStepFailedException($"{manifestKey} is larger than 16 MB; it is not a manifest this console wrote. Nothing was restored.");
            }

            bytes = buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecoveryStepFailedException($"{manifestKey} could not be read from the '{store.Name}' store ({e.Message}). Nothing was restored.", e);
        }

        BackupManifest manifest;
        try
        {
            manifest = BackupManifest.Parse(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new RecoveryStepFailedException($"{manifestKey} cannot be used: {e.Message} Nothing was restored.", e);
        }

        if (manifest.BackupId != record.Id || (record.Sha256 is { } sha && !string.Equals(sha, manifest.Sha256, StringComparison.OrdinalIgnoreCase)))
        {
            throw new RecoveryStepFailedException($"{manifestKey} does not describe the catalog's {record.FileName}. Nothing was restored.");
        }

        return manifest;
    }

    private static async Task CreateDatabaseAsync(RecoveryStepContext ctx, NpgsqlConnectionStringBuilder into, CancellationToken ct)
    {
        var maintenance = new NpgsqlConnectionStringBuilder(into.ConnectionString) { Database = "postgres" };
        await using var conn = new NpgsqlConnection(maintenance.ConnectionString);
        await conn.OpenAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = into.Database! } } })
        {
            if (await exists.ExecuteScalarAsync(ct) is not null)
            {
                return;
            }
        }

        await using var create = new NpgsqlCommand($"CREATE DATABASE {LocalPostgresCluster.QuoteIdent(into.Database!)} TEMPLATE template0", conn);
        await create.ExecuteNonQueryAsync(ct);
        await ctx.LogAsync($"Created the database {into.Database} on {into.Host}:{into.Port}.");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover 0600 download in the temp folder; harmless, never fail the restore for it.
        }
    }
}
