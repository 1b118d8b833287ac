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
        Assert.Contains(report.Skipped, s => s.Id == truncated.BackupId && s.Reason.Contains($"has 10 bytes but its manifest says {real.SizeBytes}", StringComparison.Ordinal));
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.Equal([real.BackupId], await db.Backups.Select(b => b.Id).ToListAsync());
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
