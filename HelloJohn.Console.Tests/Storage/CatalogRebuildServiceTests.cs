using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>Catalog rebuild on the real console: backups taken with pg_dump into the local disk and a real S3-compatible
/// server, catalog rows deleted, and the catalog found again from the manifests alone.</summary>
[Trait("Capability", "Storage")]
[Collection(PostgresCollection.Name)]
public sealed class CatalogRebuildServiceTests(PostgresClusterFixture postgres, S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private static readonly Actor Admin = new("admin-1", "admin@example.test", [ConsoleRoles.Admin]);
    private static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    private readonly ConsoleAppFactory _app = new(postgres);
    private readonly string _bucket = "rebuild-" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync()
    {
        await s3.EnsureBucketAsync(_bucket);
        _app.Settings["Storage:S3:Bucket"] = _bucket;
        _app.Settings["Storage:S3:Prefix"] = "hellojohn/test";
        _app.Settings["Storage:S3:Region"] = "us-east-1";
        _app.Settings["Storage:S3:ServiceUrl"] = s3.ServiceUrl;
        _app.Settings["Storage:S3:AccessKeyId"] = S3rverFixture.AccessKey;
        _app.Settings["Storage:S3:SecretAccessKey"] = S3rverFixture.SecretKey;
        await _app.InitializeAsync();
    }

    public Task DisposeAsync() => _app.DisposeAsync();

    private async Task<CatalogRebuildReport> RebuildAsync(Actor actor)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<CatalogRebuildService>().RebuildAsync(actor, CancellationToken.None);
    }

    private async Task<Guid> TargetIdAsync() => (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

    private async Task<List<Guid>> TakeBackupsAsync(int count)
    {
        var ids = new List<Guid>();
        var target = await TargetIdAsync();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await _app.Service<BackupService>().RunNowAsync(Admin, target, BackupTrigger.Manual, CancellationToken.None));
        }

        return ids;
    }

    private async Task<List<string>> CatalogAsync()
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var records = await db.Backups.AsNoTracking().Include(b => b.TableCounts).Include(b => b.Locations).Include(b => b.Target)
            .OrderBy(b => b.CreatedAt).AsSplitQuery().ToListAsync();
        return records.Select(b => string.Join(" | ",
            b.Id, b.Target!.Name, b.FileName, b.Status, b.Trigger, b.Sha256, b.SizeBytes, b.Format, b.Compression, b.ServerVersion, b.PgDumpVersion, b.SchemaVersion, b.Tier,
            b.StartedAt?.ToString("O"), b.FinishedAt?.ToString("O"), b.CreatedAt.ToString("yyyyMMddHHmmss"),
            string.Join(",", b.TableCounts.OrderBy(c => c.Schema).ThenBy(c => c.Table).Select(c => $"{c.Schema}.{c.Table}={c.Rows}")),
            string.Join(",", b.Locations.OrderBy(l => l.Store).Select(l => $"{l.Store}:{l.Key}")))).ToList();
    }

    private async Task DeleteCatalogRowsAsync()
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        await db.Backups.ExecuteDeleteAsync();
        Assert.Equal(0, await db.BackupTableCounts.CountAsync());
        Assert.Equal(0, await db.Set<BackupLocation>().CountAsync());
    }

    private async Task<BackupManifest> ManifestOfAsync(Guid backupId)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var file = (await db.Backups.SingleAsync(b => b.Id == backupId)).FileName;
        return BackupManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(_app.BackupDirectory, BackupManifest.KeyFor(file))));
    }

    [Fact]
    public async Task RebuildAsync_AfterTheCatalogRowsWereDeleted_FindsTheSameBackupsInEveryStore()
    {
        var ids = await TakeBackupsAsync(2);
        var before = await CatalogAsync();
        var listed = (await _app.Service<BackupService>().QueryAsync(new BackupQuery(), CancellationToken.None)).Items;
        Assert.All(before, row => Assert.EndsWith($"local:{row.Split(" | ")[2]},s3:{row.Split(" | ")[2]}", row));
        await DeleteCatalogRowsAsync();

        var report = await RebuildAsync(Admin);

        Assert.Equal(["local", "s3"], report.StoresScanned);
        Assert.Equal(4, report.ManifestsRead);
        Assert.Equal(2, report.BackupsFound);
        Assert.Equal(ids.Order(), report.Recreated.Select(r => r.Id).Order());
        Assert.Empty(report.Skipped);
        Assert.Empty(report.Unreadable);
        Assert.Empty(report.StoreErrors);
        Assert.Empty(report.TargetsCreated);
        Assert.Equal(before, await CatalogAsync());
        var relisted = (await _app.Service<BackupService>().QueryAsync(new BackupQuery(), CancellationToken.None)).Items;
        Assert.Equal(listed.Select(b => (b.Id, b.FileName, b.Sha256, b.SizeBytes)), relisted.Select(b => (b.Id, b.FileName, b.Sha256, b.SizeBytes)));
        Assert.All(relisted, b => Assert.Equal(CatalogRebuildService.RebuiltBy, b.RequestedBy));

        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var audit = await db.AuditEvents.SingleAsync(e => e.Action == AuditActions.CatalogRebuilt);
        Assert.Equal((AuditOutcome.Succeeded, "admin@example.test"), (audit.Outcome, audit.Actor));
        Assert.Contains("2 re-created", audit.Detail);
    }

    [Fact]
    public async Task RebuildAsync_NothingMissing_LeavesEveryRecordAsItWas()
    {
        var id = (await TakeBackupsAsync(1))[0];
        await _app.Service<BackupService>().PinAsync(Admin, id, true, CancellationToken.None);
        var before = await CatalogAsync();

        var report = await RebuildAsync(Admin);

        Assert.Empty(report.Recreated);
        var skipped = Assert.Single(report.Skipped);
        Assert.Equal((id, "Already in the catalog; left as it is."), (skipped.Id, skipped.Reason));
        Assert.Equal(before, await CatalogAsync());
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var record = await db.Backups.SingleAsync(b => b.Id == id);
        Assert.True(record.Pinned);
        Assert.Equal("admin@example.test", record.RequestedBy);
    }

    [Fact]
    public async Task RebuildAsync_DamagedOrOrphanManifests_AreReportedAndNothingIsCreatedFromThem()
    {
        var real = await ManifestOfAsync((await TakeBackupsAsync(1))[0]);
        await DeleteCatalogRowsAsync();
        var dir = _app.BackupDirectory;
        await File.WriteAllTextAsync(Path.Combine(dir, "hellojohn_20200101_000000.dump.manifest.json"), "{ this is not json");
        var orphan = real with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200102_000000.dump" };
        await File.WriteAllBytesAsync(Path.Combine(dir, BackupManifest.KeyFor(orphan.FileName)), orphan.ToJsonBytes());
        var truncated = real with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200103_000000.dump" };
        await File.WriteAllBytesAsync(Path.Combine(dir, truncated.FileName), new byte[10]);
        await File.WriteAllBytesAsync(Path.Combine(dir, BackupManifest.KeyFor(truncated.FileName)), truncated.ToJsonBytes());

        var report = await RebuildAsync(Admin);

        Assert.Equal([real.BackupId], report.Recreated.Select(r => r.Id));
        var unreadable = Assert.Single(report.Unreadable);
        Assert.Equal(("local", "hellojohn_20200101_000000.dump.manifest.json"), (unreadable.Store, unreadable.Key));
        Assert.Contains("not valid JSON", unreadable.Reason);
        Assert.Contains(report.Skipped, s => s.Id == orphan.BackupId && s.Store == "local" && s.Reason.Contains("is not: this copy cannot be restored", StringComparison.Ordinal));
        var unverifiable = Assert.Single(report.Unverifiable);
        Assert.Equal(truncated.BackupId, unverifiable.Id);
        Assert.Equal(["local"], unverifiable.Stores);
        Assert.Contains($"has 10 bytes but its manifest says {real.SizeBytes:N0}", unverifiable.Reason);
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var statuses = await db.Backups.ToDictionaryAsync(b => b.Id, b => b.Status);
        Assert.Equal(new Dictionary<Guid, BackupStatus> { [real.BackupId] = BackupStatus.Succeeded, [truncated.BackupId] = BackupStatus.Unverifiable }, statuses);
    }

    [Fact]
    public async Task RebuildAsync_JunkFilesAndAFalselyFailedGoodBackup_ListsOnlyProvenBackupsAsGood()
    {
        var good = (await TakeBackupsAsync(1))[0];
        var manifest = await ManifestOfAsync(good);
        await MarkFailedAsACrashWouldAsync(good);
        var dir = _app.BackupDirectory;
        // The issue's two plants: SQL text under a manifest claiming a hash of zeros, and a DROP DATABASE file whose
        // manifest matches it exactly.
        var sqlText = "SELECT 1; -- not a backup, just 49 bytes of SQL.\n"u8.ToArray();
        Assert.Equal(49, sqlText.Length);
        var fakeHash = manifest with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200201_000000.dump", Compression = "gzip:9", SizeBytes = 49, Sha256 = new string('0', 64), Tables = [new("public", "app_user", 4_026_355)] };
        await PlantAsync(fakeHash, sqlText);
        var drop = "DROP DATABASE hellojohn; -- bye!!!\n"u8.ToArray();
        Assert.Equal(35, drop.Length);
        var matching = manifest with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200202_000000.dump", Compression = "gzip:9", SizeBytes = 35, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(drop)) };
        await PlantAsync(matching, drop);

        var report = await RebuildAsync(Admin);

        var reconciled = Assert.Single(report.Reconciled);
        Assert.Equal((good, BackupStatus.Failed, BackupStatus.Succeeded), (reconciled.Id, reconciled.Before, reconciled.After));
        Assert.Contains("it is a good backup although the run was recorded as failed", reconciled.Change);
        var junk = report.Unverifiable.ToDictionary(u => u.Id, u => u.Reason);
        Assert.Equal(2, junk.Count);
        Assert.Contains("the file is not the backup the manifest describes", junk[fakeHash.BackupId]);
        Assert.Contains("cannot read hellojohn_20200202_000000.dump in store 'local' as a backup", junk[matching.BackupId]);
        Assert.Empty(report.Recreated);

        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var records = await db.Backups.AsNoTracking().Include(b => b.Locations).Include(b => b.TableCounts).AsSplitQuery().ToDictionaryAsync(b => b.Id);
        var revived = records[good];
        Assert.Equal((BackupStatus.Succeeded, null, manifest.Sha256, (long?)manifest.SizeBytes), (revived.Status, revived.Error, revived.Sha256, revived.SizeBytes));
        Assert.Equal(["local", "s3"], revived.Locations.Select(l => l.Store).Order());
        Assert.Equal(manifest.Tables.Sum(t => t.Rows), revived.TableCounts.Sum(c => c.Rows));
        foreach (var id in new[] { fakeHash.BackupId, matching.BackupId })
        {
            Assert.Equal(BackupStatus.Unverifiable, records[id].Status);
            Assert.Equal((null, null, 0L), (records[id].Sha256, records[id].SizeBytes, records[id].TableCounts.Sum(c => c.Rows)));
            var refused = await Assert.ThrowsAsync<HelloJohn.Console.Core.Restores.ArchiveCheckFailedException>(() => _app.Service<HelloJohn.Console.Core.Restores.BackupArchiveChecker>().CheckAsync(id, CancellationToken.None));
            Assert.Contains("only a finished backup can be restored", refused.Message);
        }

        await using (var archive = await _app.Service<HelloJohn.Console.Core.Restores.BackupArchiveChecker>().CheckAsync(good, CancellationToken.None))
        {
            Assert.True(archive.TableDataEntries > 0);
        }

        var audit = await db.AuditEvents.SingleAsync(e => e.Action == AuditActions.BackupReconciled);
        Assert.Equal(("admin@example.test", AuditOutcome.Succeeded), (audit.Actor, audit.Outcome));
        Assert.Contains("failed → succeeded", audit.Detail);
    }

    [Fact]
    public async Task ReconcileAsync_ARunFailedByTheSweepWhoseFileIsComplete_BecomesSucceededAndAFailedRunsOrphanIsRemoved()
    {
        var ids = await TakeBackupsAsync(2);
        await MarkFailedAsACrashWouldAsync(ids[0]);
        await MarkFailedAsACrashWouldAsync(ids[1]);
        // The second run died between its file and its manifest: the file can never be trusted.
        var orphan = (await ManifestOfAsync(ids[1])).FileName;
        File.Delete(Path.Combine(_app.BackupDirectory, BackupManifest.KeyFor(orphan)));
        using (var remote = await s3.CreateStoreAsync(bucket: _bucket, prefix: "hellojohn/test"))
        {
            await remote.DeleteAsync(BackupManifest.KeyFor(orphan), CancellationToken.None);
        }

        var reconciler = _app.Service<BackupReconciler>();
        var revived = await reconciler.ReconcileAsync(ids[0], CancellationToken.None);
        var cleaned = await reconciler.ReconcileAsync(ids[1], CancellationToken.None);

        Assert.Equal((BackupStatus.Failed, BackupStatus.Succeeded), (revived!.Before, revived.After));
        Assert.Equal((BackupStatus.Failed, BackupStatus.Failed), (cleaned!.Before, cleaned.After));
        Assert.Contains($"Removed {orphan} from store 'local'", cleaned.Change);
        Assert.False(File.Exists(Path.Combine(_app.BackupDirectory, orphan)));
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var audits = await db.AuditEvents.Where(e => e.Action == AuditActions.BackupReconciled).ToListAsync();
        Assert.Equal(2, audits.Count);
        Assert.All(audits, a => Assert.Equal("system", a.Actor));
    }

    private async Task MarkFailedAsACrashWouldAsync(Guid id)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        await db.Set<BackupLocation>().Where(l => l.BackupId == id).ExecuteDeleteAsync();
        await db.BackupTableCounts.Where(c => c.BackupId == id).ExecuteDeleteAsync();
        await db.Backups.Where(b => b.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(b => b.Status, BackupStatus.Failed)
            .SetProperty(b => b.Sha256, (string?)null)
            .SetProperty(b => b.SizeBytes, (long?)null)
            .SetProperty(b => b.Error, "The console process that ran this backup stopped before it finished. No file was kept; take a new backup."));
    }

    private async Task PlantAsync(BackupManifest manifest, byte[] content)
    {
        await File.WriteAllBytesAsync(Path.Combine(_app.BackupDirectory, manifest.FileName), content);
        await File.WriteAllBytesAsync(Path.Combine(_app.BackupDirectory, BackupManifest.KeyFor(manifest.FileName)), manifest.ToJsonBytes());
    }

    [Fact]
    public async Task RebuildAsync_ManifestOfAnUnknownTarget_CreatesItWithoutAConnectionAndWithPausedSchedules()
    {
        var real = await ManifestOfAsync((await TakeBackupsAsync(1))[0]);
        var dir = _app.BackupDirectory;
        var staging = real with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200104_000000.dump", TargetName = "staging" };
        File.Copy(Path.Combine(dir, real.FileName), Path.Combine(dir, staging.FileName));
        await File.WriteAllBytesAsync(Path.Combine(dir, BackupManifest.KeyFor(staging.FileName)), staging.ToJsonBytes());

        var report = await RebuildAsync(Admin);

        var recreated = Assert.Single(report.Recreated);
        Assert.Equal((staging.BackupId, "staging", new DateTimeOffset(2020, 1, 4, 0, 0, 0, TimeSpan.Zero)), (recreated.Id, recreated.TargetName, recreated.CreatedAt));
        Assert.Equal(["local"], recreated.Stores);
        Assert.Equal(["staging"], report.TargetsCreated);
        var target = (await _app.Service<TargetService>().ListAsync(CancellationToken.None)).Single(t => t.Name == "staging");
        Assert.Equal(TargetConnectionSource.Unset, target.Source);
        Assert.Equal(real.TargetAddress, target.DisplayAddress);
        await using var scope = _app.Services.CreateAsyncScope();
        var schedules = await scope.ServiceProvider.GetRequiredService<ScheduleService>().ListAsync(target.Id, CancellationToken.None);
        Assert.NotEmpty(schedules);
        Assert.All(schedules, s => Assert.True(s.Paused));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _app.Service<TargetService>().GetConnectionAsync(target.Id, CancellationToken.None));
        Assert.Contains("'staging' has no connection", e.Message);
    }

    [Fact]
    public async Task RebuildAsync_BackupsOfTheSameSecondOrALongQueue_GetCreationTimesThatKeepTheirOrder()
    {
        var real = await ManifestOfAsync((await TakeBackupsAsync(1))[0]);
        var second = new DateTimeOffset(2020, 1, 5, 0, 0, 0, TimeSpan.Zero);
        var first = real with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200105_000000.dump", StartedAt = second.AddMilliseconds(700), FinishedAt = second.AddSeconds(5) };
        var sameSecond = real with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200105_000000_2.dump", StartedAt = second.AddMilliseconds(900), FinishedAt = second.AddSeconds(6) };
        var queued = real with { BackupId = Guid.NewGuid(), FileName = "hellojohn_20200106_000000.dump", StartedAt = second.AddDays(1).AddMinutes(10), FinishedAt = second.AddDays(1).AddMinutes(11) };
        foreach (var m in new[] { first, sameSecond, queued })
        {
            File.Copy(Path.Combine(_app.BackupDirectory, real.FileName), Path.Combine(_app.BackupDirectory, m.FileName));
            await File.WriteAllBytesAsync(Path.Combine(_app.BackupDirectory, BackupManifest.KeyFor(m.FileName)), m.ToJsonBytes());
        }

        var report = await RebuildAsync(Admin);

        var created = report.Recreated.ToDictionary(r => r.Id, r => r.CreatedAt);
        Assert.Equal(second.AddMilliseconds(700), created[first.BackupId]);
        Assert.Equal(second.AddMilliseconds(900), created[sameSecond.BackupId]);
        Assert.Equal(second.AddDays(1), created[queued.BackupId]);
    }

    [Fact]
    public async Task RebuildAsync_AsOperator_IsRefusedAuditedAndScansNothing()
    {
        await TakeBackupsAsync(1);
        await DeleteCatalogRowsAsync();

        var e = await Assert.ThrowsAsync<PermissionDeniedException>(() => RebuildAsync(Operator));

        Assert.Equal(ConsolePermission.ManageStorage, e.Permission);
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Backups.CountAsync());
        var audit = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.CatalogRebuilt);
        Assert.Equal((AuditOutcome.Denied, "operator@example.test"), (audit.Outcome, audit.Actor));
    }

    [Fact]
    public async Task RebuildAsync_OneStoreUnreachable_ReportsItAndStillRebuildsFromTheOthers()
    {
        var ids = await TakeBackupsAsync(1);
        await DeleteCatalogRowsAsync();
        s3.Kill();
        CatalogRebuildReport report;
        try
        {
            report = await RebuildAsync(Admin);
        }
        finally
        {
            await s3.StartAsync();
        }

        var error = Assert.Single(report.StoreErrors);
        Assert.StartsWith("Store 's3' could not be listed", error);
        Assert.Equal(ids, report.Recreated.Select(r => r.Id));
        Assert.Equal(["local"], report.Recreated[0].Stores);
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.Equal(AuditOutcome.Failed, (await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.CatalogRebuilt)).Outcome);
    }
}
