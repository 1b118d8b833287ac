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
/// restored from an old copy, and reconciles the catalog with storage both ways. A backup is listed as good only after
/// its file is proven (size, SHA-256, pg_restore reads it: <see cref="BackupCopyVerifier"/>); one that cannot be proven
/// is listed as unverifiable with the reason. A backup the catalog already knows is corrected only where storage proves
/// it wrong (<see cref="BackupReconciler"/>); otherwise it is left exactly as it is.</summary>
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
    BackupCopyVerifier verifier,
    BackupReconciler reconciler,
    Sets.SetCatalogRebuild sets,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time,
    ILogger<CatalogRebuildService> logger)
{
    /// <summary>A manifest is a few kilobytes; anything larger is not one and is not read.</summary>
    public const long MaxManifestBytes = 4 * 1024 * 1024;

    public const string RebuiltBy = "rebuilt from storage";

    /// <summary>Scans every configured store and re-creates the catalog records that are missing. Admin only; audited.</summary>
    public async Task<CatalogRebuildReport> RebuildAsync(Actor actor, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageStorage, AuditActions.CatalogRebuilt, "catalog", ct);

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

        await CheckListedCopiesAsync(actor, scan, ct);

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
            Reconciled = [.. scan.Reconciled],
            Unverifiable = [.. scan.Unverifiable],
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

            scan.Found.StoresChecked.Add(store.Name);
            scan.Found.Present.UnionWith(objects.Keys.Select(k => (store.Name, k)));
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

            var copies = scan.Backups.TryGetValue(manifest.BackupId, out var found) ? found : scan.Backups[manifest.BackupId] = [];
            if (copies.Count > 0 && !string.Equals(copies[0].Manifest.Sha256, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                scan.Skipped.Add(new SkippedBackup(manifest.BackupId, manifest.FileName, store.Name,
                    $"The copy in store '{store.Name}' has another SHA-256 than the copy in store '{copies[0].Store.Name}' for the same backup id; only the first was listed. Compare the two files by hand."));
                continue;
            }

            copies.Add(new StoredCopy(store, dumpKey, dump, manifest));
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

    private async Task<RecreatedBackup?> RecreateAsync(Actor actor, Guid backupId, List<StoredCopy> copies, List<string> createdTargets, Scan scan, CancellationToken ct)
    {
        var manifest = copies[0].Manifest;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var existing = await db.Backups.AsNoTracking().Include(b => b.Locations)
            .Where(b => b.Id == backupId || b.FileName == manifest.FileName)
            .ToListAsync(ct);
        if (existing.FirstOrDefault(b => b.Id == backupId) is { } known)
        {
            await ReconcileKnownAsync(actor, known, copies, scan, ct);
            return null;
        }

        if (existing.Count > 0)
        {
            scan.Skipped.Add(new SkippedBackup(backupId, manifest.FileName, null,
                $"The catalog already lists another backup (id {existing[0].Id}) under the file name {manifest.FileName}; this one was not added so the two cannot be confused. Check which file is which in the stores."));
            return null;
        }

        var verdicts = new List<CopyVerdict>();
        foreach (var copy in copies)
        {
            verdicts.Add(await verifier.VerifyAsync(copy, ct));
        }

        var good = verdicts.Where(v => v.IsGood).Select(v => v.Copy).ToList();
        foreach (var bad in verdicts.Where(v => !v.IsGood && good.Count > 0))
        {
            scan.Skipped.Add(new SkippedBackup(backupId, manifest.FileName, bad.Copy.Store.Name, bad.Problem + " This copy was not listed; the proven one was."));
        }

        var target = await db.Targets.AsNoTracking().SingleOrDefaultAsync(t => t.Name == manifest.TargetName, ct);
        if (good.Count == 0)
        {
            var reason = string.Join(" ", verdicts.Select(v => v.Problem));
            if (target is null)
            {
                scan.Skipped.Add(new SkippedBackup(backupId, manifest.FileName, null,
                    $"{reason} No target '{manifest.TargetName}' was created for a backup that cannot be proven."));
                return null;
            }

            await AddAsync(db, NewRecord(backupId, target.Id, manifest, copies, BackupStatus.Unverifiable, reason), scan, ct);
            scan.Unverifiable.Add(new UnverifiableBackup(backupId, manifest.FileName, target.Name, [.. copies.Select(c => c.Store.Name)], reason));
            return null;
        }

        target ??= await CreateTargetAsync(actor, manifest, createdTargets, ct);
        var record = NewRecord(backupId, target.Id, good[0].Manifest, good, BackupStatus.Succeeded, null);
        if (!await AddAsync(db, record, scan, ct))
        {
            return null;
        }

        return new RecreatedBackup(backupId, manifest.FileName, target.Name, record.CreatedAt, manifest.SizeBytes, record.Sha256!,
            manifest.Tables.Sum(t => t.Rows), [.. good.Select(c => c.Store.Name)]);
    }

    private BackupRecord NewRecord(Guid backupId, Guid targetId, BackupManifest manifest, List<StoredCopy> copies, BackupStatus status, string? error) => new()
    {
        Id = backupId,
        TargetId = targetId,
        DatabaseName = manifest.DatabaseName,
        FileName = manifest.FileName,
        Status = status,
        Error = error,
        Trigger = Enum.TryParse<BackupTrigger>(manifest.Trigger, ignoreCase: true, out var trigger) ? trigger : BackupTrigger.Imported,
        RequestedBy = RebuiltBy,
        CreatedAt = CreatedAtOf(manifest),
        StartedAt = manifest.StartedAt,
        FinishedAt = manifest.FinishedAt,
        // What an unproven manifest claims (its size, hash, row counts) is not shown as measured.
        BytesWritten = status == BackupStatus.Succeeded ? manifest.SizeBytes : 0,
        SizeBytes = status == BackupStatus.Succeeded ? manifest.SizeBytes : null,
        Sha256 = status == BackupStatus.Succeeded ? manifest.Sha256.ToLowerInvariant() : null,
        Format = manifest.Format,
        Compression = manifest.Compression,
        ServerVersion = manifest.ServerVersion,
        PgDumpVersion = manifest.PgDumpVersion,
        SchemaVersion = manifest.SchemaVersion,
        Tier = TierOf(manifest, copies),
        TableCounts = status == BackupStatus.Succeeded
            ? [.. manifest.Tables.Select(t => new BackupTableCount { BackupId = backupId, Schema = t.Schema, Table = t.Table, Rows = t.Rows })]
            : [],
        Locations = [.. copies.Select(c => BackupReconciler.LocationOf(backupId, c))],
    };

    private async Task<bool> AddAsync(ConsoleDbContext db, BackupRecord record, Scan scan, CancellationToken ct)
    {
        db.Backups.Add(record);
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e)
        {
            // Another rebuild (or instance) added it between the check and the insert.
            logger.LogWarning(e, "Re-creating backup {BackupId} failed", record.Id);
            scan.Skipped.Add(new SkippedBackup(record.Id, record.FileName, null, "It was added to the catalog by someone else during this rebuild; left as it is."));
            return false;
        }
    }

    /// <summary>A backup the catalog knows: copies it already lists are trusted as listed (verification re-checks them);
    /// any other copy is proven before the record changes, and the record changes only where storage proves it wrong.</summary>
    private async Task ReconcileKnownAsync(Actor actor, BackupRecord known, List<StoredCopy> copies, Scan scan, CancellationToken ct)
    {
        var listedGood = known.Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored;
        var found = scan.Found.ForOneBackup();
        foreach (var copy in copies.Where(c => !listedGood || known.Locations.All(l => l.Store != c.Store.Name || l.Key != c.Key)))
        {
            found.Verdicts.Add(await verifier.VerifyAsync(copy, ct));
        }

        var outcome = await reconciler.ApplyAsync(actor, known.Id, found, ct);
        if (outcome?.Change is null)
        {
            scan.Skipped.Add(new SkippedBackup(known.Id, known.FileName, null, "Already in the catalog; left as it is."));
        }
        else
        {
            scan.Reconciled.Add(outcome);
        }
    }

    /// <summary>The other way round: a good backup the catalog lists in a store that was scanned, whose file is not there
    /// any more, loses that copy (and is marked unverifiable when it has none left).</summary>
    private async Task CheckListedCopiesAsync(Actor actor, Scan scan, CancellationToken ct)
    {
        List<Guid> gone;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var listed = await db.Backups.AsNoTracking()
                .Where(b => b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored)
                .SelectMany(b => b.Locations.Select(l => new { b.Id, l.Store, l.Key }))
                .ToListAsync(ct);
            gone = [.. listed
                .Where(l => !scan.Backups.ContainsKey(l.Id) && scan.Found.StoresChecked.Contains(l.Store) && !scan.Found.Present.Contains((l.Store, l.Key)))
                .Select(l => l.Id)
                .Distinct()];
        }

        foreach (var id in gone)
        {
            if (await reconciler.ApplyAsync(actor, id, scan.Found.ForOneBackup(), ct) is { Change: not null } outcome)
            {
                scan.Reconciled.Add(outcome);
            }
        }
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
    private string TierOf(BackupManifest manifest, List<StoredCopy> copies)
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

    private sealed class Scan
    {
        public int ManifestsRead { get; set; }
        public Dictionary<Guid, List<StoredCopy>> Backups { get; } = [];
        /// <summary>Every object seen in the stores that could be listed.</summary>
        public StorageFindings Found { get; } = new();
        public List<ReconciledBackup> Reconciled { get; } = [];
        public List<UnverifiableBackup> Unverifiable { get; } = [];
        public List<SkippedBackup> Skipped { get; } = [];
        public List<UnreadableManifest> Unreadable { get; } = [];
        public List<string> StoreErrors { get; } = [];
    }
}
