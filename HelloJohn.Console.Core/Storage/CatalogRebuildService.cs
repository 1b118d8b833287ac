using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Finds every backup again from the manifests beside the files, for a console whose own database was lost or
/// restored from an old copy. It only adds: a backup the catalog already knows is left exactly as it is.</summary>
/// <remarks>
/// What a manifest cannot give back stays unknown: pins, verification history and who pressed the button (the record
/// says "rebuilt from storage"). A backup's creation time is the one its file name encodes (to the second, UTC), or its
/// start time when it started within that second. A manifest whose target is not in the catalog creates that target with no
/// connection (<see cref="TargetConnectionSource.Unset"/>) and paused schedules, so nothing runs against it until an
/// administrator gives it its connection; its backups can still be listed and restored.
/// </remarks>
public sealed class CatalogRebuildService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    ScheduleService schedules,
    Sets.SetCatalogRebuild sets,
    IAuditLog audit,
    TimeProvider time,
    ILogger<CatalogRebuildService> logger)
{
    /// <summary>A manifest is a few kilobytes; anything larger is not one and is not read.</summary>
    public const long MaxManifestBytes = 4 * 1024 * 1024;

    public const string RebuiltBy = "rebuilt from storage";

    /// <summary>Scans every configured store and re-creates the catalog records that are missing. Admin only; audited.</summary>
    public async Task<CatalogRebuildReport> RebuildAsync(Actor actor, CancellationToken ct)
    {
        if (!actor.Has(ConsolePermission.ManageStorage))
        {
            await audit.RecordAsync(actor, AuditActions.CatalogRebuilt, "catalog", AuditOutcome.Denied, "Nothing was scanned or changed.", ct);
            actor.Demand(ConsolePermission.ManageStorage);
        }

        var startedAt = time.GetUtcNow();
        var scan = new Scan();
        foreach (var store in stores.All)
        {
            await ScanStoreAsync(store, scan, ct);
        }

        var recreated = new List<RecreatedBackup>();
        var createdTargets = new List<string>();
        foreach (var (backupId, copies) in scan.Backups)
        {
            ct.ThrowIfCancellationRequested();
            var outcome = await RecreateAsync(actor, backupId, copies, createdTargets, scan, ct);
            if (outcome is not null)
            {
                recreated.Add(outcome);
            }
        }

        var report = new CatalogRebuildReport(
            startedAt,
            time.GetUtcNow(),
            [.. stores.All.Select(s => s.Name)],
            scan.ManifestsRead,
            scan.Backups.Count,
            [.. recreated.OrderBy(r => r.CreatedAt)],
            [.. scan.Skipped],
            [.. scan.Unreadable],
            createdTargets,
            [.. scan.StoreErrors])
        {
            // Sets after their members: a set manifest only lists backups whose own manifests were read above.
            Sets = await sets.RebuildAsync(ct),
        };
        await audit.RecordAsync(actor, AuditActions.CatalogRebuilt, "catalog",
            report.StoreErrors.Count == 0 ? AuditOutcome.Succeeded : AuditOutcome.Failed, report.Summary, CancellationToken.None);
        logger.LogInformation("Catalog rebuild by {Actor}: {Summary}", actor.Name, report.Summary);
        return report;
    }

    private async Task ScanStoreAsync(IBackupStore store, Scan scan, CancellationToken ct)
    {
        var objects = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        try
        {
            await foreach (var o in store.ListAsync("", ct))
            {
                objects[o.Key] = o;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Listing store {Store} for the catalog rebuild failed", store.Name);
            scan.StoreErrors.Add($"Store '{store.Name}' could not be listed ({e.Message}). Its backups were not looked for; the other stores were. Check the store's settings and connectivity, then rebuild again.");
            return;
        }

        foreach (var manifestObject in objects.Values.Where(o => o.Key.EndsWith(BackupManifest.Suffix, StringComparison.Ordinal)).OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var manifest = await ReadManifestAsync(store, manifestObject, scan, ct);
            if (manifest is null)
            {
                continue;
            }

            scan.ManifestsRead++;
            var dumpKey = manifestObject.Key[..^BackupManifest.Suffix.Length];
            if (!objects.TryGetValue(dumpKey, out var dump))
            {
                scan.Skipped.Add(new SkippedBackup(manifest.BackupId, manifest.FileName, store.Name,
                    $"The manifest is in store '{store.Name}' but the backup file {dumpKey} is not: this copy cannot be restored, so it was not listed."));
                continue;
            }

            if (dump.Size != manifest.SizeBytes)
            {
                scan.Skipped.Add(new SkippedBackup(manifest.BackupId, manifest.FileName, store.Name,
                    $"The file {dumpKey} in store '{store.Name}' has {dump.Size} bytes but its manifest says {manifest.SizeBytes}: it is incomplete or was changed, so it was not listed."));
                continue;
            }

            var copies = scan.Backups.TryGetValue(manifest.BackupId, out var found) ? found : scan.Backups[manifest.BackupId] = [];
            if (copies.Count > 0 && !string.Equals(copies[0].Manifest.Sha256, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                scan.Skipped.Add(new SkippedBackup(manifest.BackupId, manifest.FileName, store.Name,
                    $"The copy in store '{store.Name}' has another SHA-256 than the copy in store '{copies[0].Store.Name}' for the same backup id; only the first was listed. Compare the two files by hand."));
                continue;
            }

            copies.Add(new FoundCopy(store, dumpKey, dump, manifest));
        }
    }

    private async Task<BackupManifest?> ReadManifestAsync(IBackupStore store, StoredObject manifestObject, Scan scan, CancellationToken ct)
    {
        if (manifestObject.Size > MaxManifestBytes)
        {
            scan.Unreadable.Add(new UnreadableManifest(store.Name, manifestObject.Key, $"It is {manifestObject.Size} bytes, larger than any manifest ({MaxManifestBytes / (1024 * 1024)} MiB); it was not read."));
            return null;
        }

        try
        {
            await using var stream = await store.OpenReadAsync(manifestObject.Key, ct);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct);
            return BackupManifest.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (InvalidDataException e)
        {
            scan.Unreadable.Add(new UnreadableManifest(store.Name, manifestObject.Key, e.Message));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Reading manifest {Key} from store {Store} failed", manifestObject.Key, store.Name);
            scan.Unreadable.Add(new UnreadableManifest(store.Name, manifestObject.Key, $"It could not be read ({e.Message})."));
        }

        return null;
    }

    private async Task<RecreatedBackup?> RecreateAsync(Actor actor, Guid backupId, List<FoundCopy> copies, List<string> createdTargets, Scan scan, CancellationToken ct)
    {
        var manifest = copies[0].Manifest;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var existing = await db.Backups.AsNoTracking()
            .Where(b => b.Id == backupId || b.FileName == manifest.FileName)
            .Select(b => new { b.Id, b.FileName })
            .ToListAsync(ct);
        if (existing.Any(b => b.Id == backupId))
        {
            scan.Skipped.Add(new SkippedBackup(backupId, manifest.FileName, null, "Already in the catalog; left as it is."));
            return null;
        }

        if (existing.Count > 0)
        {
            scan.Skipped.Add(new SkippedBackup(backupId, manifest.FileName, null,
                $"The catalog already lists another backup (id {existing[0].Id}) under the file name {manifest.FileName}; this one was not added so the two cannot be confused. Check which file is which in the stores."));
            return null;
        }

        var target = await db.Targets.AsNoTracking().SingleOrDefaultAsync(t => t.Name == manifest.TargetName, ct)
            ?? await CreateTargetAsync(actor, manifest, createdTargets, ct);
        var record = new BackupRecord
        {
            Id = backupId,
            TargetId = target.Id,
            DatabaseName = manifest.DatabaseName,
            FileName = manifest.FileName,
            Status = BackupStatus.Succeeded,
            Trigger = Enum.TryParse<BackupTrigger>(manifest.Trigger, ignoreCase: true, out var trigger) ? trigger : BackupTrigger.Imported,
            RequestedBy = RebuiltBy,
            CreatedAt = CreatedAtOf(manifest),
            StartedAt = manifest.StartedAt,
            FinishedAt = manifest.FinishedAt,
            BytesWritten = manifest.SizeBytes,
            SizeBytes = manifest.SizeBytes,
            Sha256 = manifest.Sha256.ToLowerInvariant(),
            Format = manifest.Format,
            Compression = manifest.Compression,
            ServerVersion = manifest.ServerVersion,
            PgDumpVersion = manifest.PgDumpVersion,
            SchemaVersion = manifest.SchemaVersion,
            Tier = TierOf(manifest, copies),
            TableCounts = [.. manifest.Tables.Select(t => new BackupTableCount { BackupId = backupId, Schema = t.Schema, Table = t.Table, Rows = t.Rows })],
            Locations = [.. copies.Select(c => new BackupLocation
            {
                BackupId = backupId,
                Store = c.Store.Name,
                Key = c.DumpKey,
                StorageClass = c.Dump.StorageClass ?? (c.Store as S3BackupStore)?.StorageClass,
                StoredAt = c.Dump.LastModified == default ? manifest.FinishedAt : c.Dump.LastModified,
            })],
        };
        db.Backups.Add(record);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e)
        {
            // Another rebuild (or instance) added it between the check and the insert.
            logger.LogWarning(e, "Re-creating backup {BackupId} failed", backupId);
            scan.Skipped.Add(new SkippedBackup(backupId, manifest.FileName, null, "It was added to the catalog by someone else during this rebuild; left as it is."));
            return null;
        }

        return new RecreatedBackup(backupId, manifest.FileName, target.Name, record.CreatedAt, manifest.SizeBytes, record.Sha256!,
            manifest.Tables.Sum(t => t.Rows), [.. copies.Select(c => c.Store.Name)]);
    }

    private async Task<BackupTarget> CreateTargetAsync(Actor actor, BackupManifest manifest, List<string> createdTargets, CancellationToken ct)
    {
        var target = new BackupTarget
        {
            Id = Guid.NewGuid(),
            Name = manifest.TargetName,
            ConnectionSource = TargetConnectionSource.Unset,
            DisplayAddress = manifest.TargetAddress,
            Provider = TargetProvider.SelfManaged,
            CreatedAt = time.GetUtcNow(),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Targets.Add(target);
            await db.SaveChangesAsync(ct);
        }

        // Schedules exist from the start, paused: the start-up task would otherwise create running ones.
        foreach (var schedule in await schedules.EnsureDefaultsAsync(actor, target.Id, ct))
        {
            await schedules.PauseAsync(actor, schedule.Id, ct);
        }

        createdTargets.Add(target.Name);
        await audit.RecordAsync(actor, AuditActions.SettingsChanged, target.Name, AuditOutcome.Succeeded,
            $"Target '{target.Name}' re-created by a catalog rebuild from its backup manifests, without a connection; its schedules are paused.", ct);
        return target;
    }

    /// <summary>The file name holds the creation time to the second. A backup that started within that second gets
    /// its start time instead, which keeps two backups of the same second in order; a name of another shape falls back
    /// to the start.</summary>
    private static DateTimeOffset CreatedAtOf(BackupManifest manifest) =>
        BackupNaming.TryParseTime(manifest.FileName) is { } named && named <= manifest.StartedAt && manifest.StartedAt >= named.AddSeconds(1)
            ? named
            : manifest.StartedAt;

    /// <summary>The manifest says the tier the backup was taken for; a copy found only in a weekly or monthly store says
    /// retention promoted it since.</summary>
    private string TierOf(BackupManifest manifest, List<FoundCopy> copies)
    {
        foreach (var tier in new[] { BackupTier.Monthly, BackupTier.Weekly })
        {
            var tierStores = stores.Layout[tier];
            var dailyStores = stores.Layout[BackupTier.Daily];
            if (copies.Any(c => tierStores.Contains(c.Store.Name) && !dailyStores.Contains(c.Store.Name)))
            {
                return tier.Name();
            }
        }

        return BackupTiers.Parse(manifest.Tier)?.Name() ?? BackupTier.Daily.Name();
    }

    private sealed record FoundCopy(IBackupStore Store, string DumpKey, StoredObject Dump, BackupManifest Manifest);

    private sealed class Scan
    {
        public int ManifestsRead { get; set; }
        public Dictionary<Guid, List<FoundCopy>> Backups { get; } = [];
        public List<SkippedBackup> Skipped { get; } = [];
        public List<UnreadableManifest> Unreadable { get; } = [];
        public List<string> StoreErrors { get; } = [];
    }
}

/// <summary>What a catalog rebuild found and did.</summary>
/// <param name="ManifestsRead">Readable manifests across all stores (a backup held in two stores counts twice).</param>
/// <param name="BackupsFound">Distinct backups those manifests describe with their file present.</param>
public sealed record CatalogRebuildReport(
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    IReadOnlyList<string> StoresScanned,
    int ManifestsRead,
    int BackupsFound,
    IReadOnlyList<RecreatedBackup> Recreated,
    IReadOnlyList<SkippedBackup> Skipped,
    IReadOnlyList<UnreadableManifest> Unreadable,
    IReadOnlyList<string> TargetsCreated,
    IReadOnlyList<string> StoreErrors)
{
    /// <summary>Sets re-created from their set manifests.</summary>
    public IReadOnlyList<Sets.RebuiltSet> Sets { get; init; } = [];

    public string Summary =>
        $"Scanned {StoresScanned.Count} store(s) ({string.Join(", ", StoresScanned)}): {BackupsFound} backup(s) found, {Recreated.Count} re-created, "
        + $"{Skipped.Count} skipped, {Unreadable.Count} unreadable manifest(s)"
        + (Sets.Count == 0 ? "" : $"; {Sets.Count} backup set(s) re-created")
        + (TargetsCreated.Count == 0 ? "" : $"; target(s) re-created without a connection: {string.Join(", ", TargetsCreated)}")
        + (StoreErrors.Count == 0 ? "." : $"; {StoreErrors.Count} store(s) could not be scanned: {string.Join(" ", StoreErrors)}");
}

public sealed record RecreatedBackup(Guid Id, string FileName, string TargetName, DateTimeOffset CreatedAt, long SizeBytes, string Sha256, long TotalRows, IReadOnlyList<string> Stores);

/// <param name="Store">The store of the copy that was skipped; null when the whole backup was.</param>
public sealed record SkippedBackup(Guid Id, string FileName, string? Store, string Reason);

public sealed record UnreadableManifest(string Store, string Key, string Reason);
