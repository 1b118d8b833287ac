using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Storage;

/// <summary>What reconciling one backup changed; <see cref="Change"/> is null when the catalog already matched storage.</summary>
public sealed record ReconciledBackup(Guid Id, string FileName, BackupStatus Before, BackupStatus After, string? Change);

/// <summary>Makes a catalog record tell the truth about storage, both ways. A complete file with its manifest, whose size
/// and SHA-256 match and which pg_restore reads, is a good backup whatever a crashed run wrote: a record marked failed
/// becomes succeeded. A copy the catalog lists that is gone or no longer matches is taken off the record, and a record
/// left with no good copy is marked unverifiable. A failed run's dump without a manifest is removed, as the pipeline
/// itself would have. Every change is audited with its reason.</summary>
/// <remarks>Queued and running records are left to the run lifecycle; expired ones to retention.</remarks>
public sealed class BackupReconciler(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    BackupCopyVerifier verifier,
    IAuditLog audit,
    ILogger<BackupReconciler> logger)
{
    /// <summary>Looks for the backup's file and manifest in every configured store and reconciles its record with what
    /// is there. For the run sweep, right after it fails a run whose owner is gone. Null when there is no such record.</summary>
    public async Task<ReconciledBackup?> ReconcileAsync(Guid backupId, CancellationToken ct) => await ReconcileAsync(Actor.System, backupId, ct);

    internal async Task<ReconciledBackup?> ReconcileAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        string fileName;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var record = await db.Backups.AsNoTracking().Where(b => b.Id == backupId).Select(b => new { b.FileName, b.Status }).FirstOrDefaultAsync(ct);
            if (record is null)
            {
                return null;
            }

            fileName = record.FileName;
        }

        var found = new StorageFindings();
        foreach (var store in stores.All)
        {
            await FindAsync(store, backupId, fileName, found, ct);
        }

        return await ApplyAsync(actor, backupId, found, ct);
    }

    /// <summary>Applies what was found in storage to the record. Copies in <see cref="StorageFindings.Verdicts"/> were
    /// proven (or disproven); <see cref="StorageFindings.Present"/> are the objects seen in the stores named in
    /// <see cref="StorageFindings.StoresChecked"/>: a listed copy missing from a checked store is gone.</summary>
    internal async Task<ReconciledBackup?> ApplyAsync(Actor actor, Guid backupId, StorageFindings found, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.Backups.Include(b => b.Locations).Include(b => b.TableCounts).AsSplitQuery().FirstOrDefaultAsync(b => b.Id == backupId, ct);
        if (record is null)
        {
            return null;
        }

        var before = record.Status;
        if (before is BackupStatus.Queued or BackupStatus.Running or BackupStatus.Expired)
        {
            return new ReconciledBackup(record.Id, record.FileName, before, before, null);
        }

        var verdicts = found.Verdicts.Where(v => v.Copy.Manifest.BackupId == record.Id && v.Copy.Manifest.FileName == record.FileName).ToList();
        var good = verdicts.Where(v => v.IsGood).ToList();
        var bad = verdicts.Where(v => !v.IsGood).ToList();
        var changes = before is BackupStatus.Succeeded or BackupStatus.PartiallyStored
            ? CheckListedCopies(record, good, bad, found)
            : await ReviveAsync(record, good, bad, found, ct);
        if (changes.Count == 0)
        {
            return new ReconciledBackup(record.Id, record.FileName, before, before, null);
        }

        await db.SaveChangesAsync(CancellationToken.None);
        var change = string.Join(" ", changes);
        var outcome = new ReconciledBackup(record.Id, record.FileName, before, record.Status, change);
        await audit.RecordAsync(actor, AuditActions.BackupReconciled, record.FileName, AuditOutcome.Succeeded,
            $"{Describe(before)} → {Describe(record.Status)}: {change}", CancellationToken.None);
        logger.LogWarning("Backup {File} reconciled with storage, {Before} → {After}: {Change}", record.FileName, before, record.Status, change);
        return outcome;
    }

    /// <summary>Records the copies of <paramref name="fileName"/> in <paramref name="store"/>: verified when a manifest of
    /// this backup is beside it, an orphan when there is none.</summary>
    private async Task FindAsync(IBackupStore store, Guid backupId, string fileName, StorageFindings found, CancellationToken ct)
    {
        var manifestKey = BackupManifest.KeyFor(fileName);
        StoredObject? dump = null;
        StoredObject? manifestObject = null;
        try
        {
            await foreach (var o in store.ListAsync(fileName, ct))
            {
                if (o.Key == fileName)
                {
                    dump = o;
                }
                else if (o.Key == manifestKey)
                {
                    manifestObject = o;
                }
            }

            if (dump is null)
            {
                found.StoresChecked.Add(store.Name);
                return;
            }

            found.Present.Add((store.Name, fileName));
            var manifest = manifestObject is null ? null : await ReadManifestAsync(store, manifestObject, ct);
            found.StoresChecked.Add(store.Name);
            if (manifest is null)
            {
                found.Orphans.Add((store, fileName));
            }
            else if (manifest.BackupId == backupId)
            {
                found.Verdicts.Add(await verifier.VerifyAsync(new StoredCopy(store, fileName, dump, manifest), ct));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Not checked: what the catalog says about this store is left as it is.
            logger.LogWarning("Looking for {File} in store {Store} failed: {Message}", fileName, store.Name, e.Message);
        }
    }

    internal static async Task<BackupManifest?> ReadManifestAsync(IBackupStore store, StoredObject manifestObject, CancellationToken ct)
    {
        if (manifestObject.Size > CatalogRebuildService.MaxManifestBytes)
        {
            return null;
        }

        await using var stream = await store.OpenReadAsync(manifestObject.Key, ct);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, ct);
        try
        {
            return BackupManifest.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>A succeeded record: drops listed copies that are gone or disproven, adds proven copies it did not list.</summary>
    private static List<string> CheckListedCopies(BackupRecord record, List<CopyVerdict> good, List<CopyVerdict> bad, StorageFindings found)
    {
        var changes = new List<string>();
        foreach (var location in record.Locations.ToList())
        {
            if (bad.FirstOrDefault(v => v.Copy.Store.Name == location.Store) is { } disproven)
            {
                record.Locations.Remove(location);
                changes.Add($"The copy in store '{location.Store}' was taken off the record: {disproven.Problem}");
            }
            else if (found.StoresChecked.Contains(location.Store) && !found.Present.Contains((location.Store, location.Key)))
            {
                record.Locations.Remove(location);
                changes.Add($"The copy in store '{location.Store}' was taken off the record: {location.Key} is no longer there.");
            }
        }

        foreach (var verdict in good.Where(v => record.Locations.All(l => l.Store != v.Copy.Store.Name)))
        {
            record.Locations.Add(LocationOf(record.Id, verdict.Copy));
            changes.Add($"A proven copy in store '{verdict.Copy.Store.Name}' was added to the record.");
        }

        if (record.Locations.Count == 0 && changes.Count > 0)
        {
            record.Status = BackupStatus.Unverifiable;
            record.Error = "No store holds a good copy of this backup any more. " + string.Join(" ", changes);
            changes.Add("It is no longer offered for restore or verification.");
        }

        return changes;
    }

    /// <summary>A failed, cancelled or unverifiable record: proven copies make it a good backup again; disproven ones
    /// make it unverifiable; a dump without a manifest left by a failed run is removed.</summary>
    private async Task<List<string>> ReviveAsync(BackupRecord record, List<CopyVerdict> good, List<CopyVerdict> bad, StorageFindings found, CancellationToken ct)
    {
        var changes = new List<string>();
        if (good.Count > 0)
        {
            var was = $"{Describe(record.Status)}{(record.Error is null ? "" : $" (\"{record.Error}\")")}";
            FillFromManifest(record, good);
            var daily = stores.StoresOf(BackupTier.Daily).Select(s => s.Name).ToList();
            var missing = daily.Where(name => good.All(g => g.Copy.Store.Name != name)).ToList();
            record.Status = missing.Count == 0 ? BackupStatus.Succeeded : BackupStatus.PartiallyStored;
            record.Error = missing.Count == 0 ? null
                : $"Stored in {string.Join(", ", good.Select(g => g.Copy.Store.Name))} only; not in {string.Join(", ", missing)}. Use Retry upload to copy it.";
            changes.Add($"The file is complete in {string.Join(", ", good.Select(g => $"store '{g.Copy.Store.Name}'"))}: its size, SHA-256 ({record.Sha256![..12]}…) and manifest match and pg_restore reads it, so it is a good backup although the run was recorded as {was}.");
            return changes;
        }

        if (bad.Count > 0)
        {
            var problems = string.Join(" ", bad.Select(b => b.Problem));
            if (record.Status != BackupStatus.Unverifiable || record.Error != problems)
            {
                record.Status = BackupStatus.Unverifiable;
                record.Error = problems;
                SetLocations(record, bad.Select(b => b.Copy));
                changes.Add($"Its file is in storage but cannot be proven: {problems}");
            }
        }

        if (record.Status is BackupStatus.Failed or BackupStatus.Cancelled)
        {
            foreach (var (store, key) in found.Orphans)
            {
                try
                {
                    await store.DeleteAsync(key, ct);
                    changes.Add($"Removed {key} from store '{store.Name}': the {Describe(record.Status)} run left it without a manifest, so it can never be trusted.");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Could not remove the orphan {Key} from store {Store}: {Message}", key, store.Name, e.Message);
                }
            }
        }

        return changes;
    }

    private static void FillFromManifest(BackupRecord record, List<CopyVerdict> good)
    {
        var manifest = good[0].Copy.Manifest;
        record.SizeBytes = manifest.SizeBytes;
        record.BytesWritten = manifest.SizeBytes;
        record.Sha256 = manifest.Sha256.ToLowerInvariant();
        record.StartedAt ??= manifest.StartedAt;
        record.FinishedAt = manifest.FinishedAt;
        record.Format = manifest.Format;
        record.Compression = manifest.Compression;
        record.ServerVersion = manifest.ServerVersion;
        record.PgDumpVersion = manifest.PgDumpVersion;
        record.SchemaVersion = manifest.SchemaVersion;
        if (record.TableCounts.Count == 0)
        {
            // A run that failed before the end never stored its counts; the manifest has those of its snapshot.
            record.TableCounts.AddRange(manifest.Tables.Select(t => new BackupTableCount { BackupId = record.Id, Schema = t.Schema, Table = t.Table, Rows = t.Rows }));
        }

        SetLocations(record, good.Select(g => g.Copy));
    }

    /// <summary>Makes the record list exactly <paramref name="copies"/>, updating a store's existing entry in place.</summary>
    private static void SetLocations(BackupRecord record, IEnumerable<StoredCopy> copies)
    {
        var wanted = copies.ToList();
        record.Locations.RemoveAll(l => wanted.All(c => c.Store.Name != l.Store));
        foreach (var copy in wanted)
        {
            var fresh = LocationOf(record.Id, copy);
            if (record.Locations.FirstOrDefault(l => l.Store == copy.Store.Name) is { } existing)
            {
                existing.Key = fresh.Key;
                existing.StorageClass = fresh.StorageClass;
                existing.StoredAt = fresh.StoredAt;
            }
            else
            {
                record.Locations.Add(fresh);
            }
        }
    }

    internal static BackupLocation LocationOf(Guid backupId, StoredCopy copy) => new()
    {
        BackupId = backupId,
        Store = copy.Store.Name,
        Key = copy.Key,
        StorageClass = copy.File.StorageClass ?? (copy.Store as S3BackupStore)?.StorageClass,
        StoredAt = copy.File.LastModified == default ? copy.Manifest.FinishedAt : copy.File.LastModified,
    };

    private static string Describe(BackupStatus status) => status == BackupStatus.PartiallyStored ? "partially stored" : status.ToString().ToLowerInvariant();
}

/// <summary>What was seen in storage for the backups being reconciled.</summary>
internal sealed class StorageFindings
{
    public StorageFindings()
        : this([], new HashSet<string>(StringComparer.Ordinal))
    {
    }

    private StorageFindings(HashSet<(string Store, string Key)> present, HashSet<string> storesChecked)
    {
        Present = present;
        StoresChecked = storesChecked;
    }

    public List<CopyVerdict> Verdicts { get; } = [];
    public HashSet<(string Store, string Key)> Present { get; }
    public HashSet<string> StoresChecked { get; }
    public List<(IBackupStore Store, string Key)> Orphans { get; } = [];

    /// <summary>The same view of storage (shared, not copied), with no verdicts yet: for one backup of a scan of every store.</summary>
    public StorageFindings ForOneBackup() => new(Present, StoresChecked);
}
