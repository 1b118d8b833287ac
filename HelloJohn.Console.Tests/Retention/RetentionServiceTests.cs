using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HelloJohn.Console.Tests.Retention;

/// <summary>A private PostgreSQL cluster with the migrated console database, for services that use the catalog.</summary>
public sealed class CatalogDatabaseFixture : IAsyncLifetime
{
    private LocalPostgresCluster? _cluster;

    public string ConnectionString { get; private set; } = "";

    public IDbContextFactory<ConsoleDbContext> Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "hellojohn-catalog-" + Guid.NewGuid().ToString("N")[..12]);
        var runner = new PgToolRunner(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);
        _cluster = await LocalPostgresCluster.StartAsync(root, runner, deleteOnDispose: true);
        await _cluster.EnsureDatabaseAsync("hellojohn_console", "console", "console-test-password", canCreateDatabases: false);
        ConnectionString = _cluster.ConnectionFor("hellojohn_console", "console", "console-test-password").ConnectionString;
        var options = new DbContextOptionsBuilder<ConsoleDbContext>().UseNpgsql(ConnectionString).Options;
        Factory = new PooledDbContextFactory<ConsoleDbContext>(options);
        await using var db = await Factory.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        await TestAccounts.EnsureAsync(Factory);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[Trait("Capability", "Retention")]
public class RetentionServiceTests(CatalogDatabaseFixture catalog, S3rverFixture s3) : IClassFixture<CatalogDatabaseFixture>, IClassFixture<S3rverFixture>, IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 3, 15, 12, 0, 0, TimeSpan.Zero);
    private readonly string _localDirectory = Path.Combine(Path.GetTempPath(), "hellojohn-local-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task ApplyAsync_TieredPolicy_CopiesWeeklyDeletesExpiredAndRecordsEverything()
    {
        var (service, stores, targetId) = await ArrangeAsync(days: 20);

        var result = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);

        // Daily 3 (13–15 Mar), weekly 2 (weeks from Sun 9 Mar and Sun 2 Mar, both before the daily ones), monthly 1 (1 Mar).
        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(20 - 6, result.Expired);
        await using var db = await catalog.Factory.CreateDbContextAsync();
        var records = await db.Backups.Include(b => b.Locations).Where(b => b.TargetId == targetId).ToListAsync();
        var kept = records.Where(b => b.Status == BackupStatus.Succeeded).Select(b => b.CreatedAt.Day).Order();
        Assert.Equal([1, 2, 9, 13, 14, 15], kept);
        Assert.All(records.Where(b => b.Status == BackupStatus.Expired), b => Assert.Empty(b.Locations));
        Assert.All(records.Where(b => b.Status == BackupStatus.Expired), b => Assert.Equal(Now, b.ExpiredAt));

        var weekly = records.Single(b => b.CreatedAt.Day == 9);
        Assert.Equal(["s3-weekly"], weekly.Locations.Select(l => l.Store));
        Assert.Equal("weekly", weekly.Tier);
        Assert.True(await stores["s3-weekly"].ExistsAsync(weekly.FileName, CancellationToken.None));
        Assert.True(await stores["s3-weekly"].ExistsAsync(BackupManifest.KeyFor(weekly.FileName), CancellationToken.None));
        Assert.False(await stores["local"].ExistsAsync(weekly.FileName, CancellationToken.None));
        Assert.False(await stores["s3"].ExistsAsync(weekly.FileName, CancellationToken.None));

        // 1 Mar is monthly with no monthly store: it stays where it is.
        Assert.Equal(["local", "s3"], records.Single(b => b.CreatedAt.Day == 1).Locations.Select(l => l.Store).Order());
        var expired = records.Single(b => b.CreatedAt.Day == 12);
        Assert.False(await stores["local"].ExistsAsync(expired.FileName, CancellationToken.None));
        Assert.False(await stores["s3"].ExistsAsync(BackupManifest.KeyFor(expired.FileName), CancellationToken.None));

        var targetName = "t-" + targetId.ToString("N")[..8];
        var audit = await db.AuditEvents.Where(a => a.Target!.StartsWith(targetName)).ToListAsync();
        Assert.Equal(14, audit.Count(a => a.Action == AuditActions.BackupDeleted && a.Detail!.StartsWith("Expired by retention", StringComparison.Ordinal)));
        Assert.Single(audit, a => a.Action == AuditActions.RetentionRun && a.Outcome == AuditOutcome.Succeeded);

        var again = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);
        Assert.Equal((0, 0, 0), (again.Copied, again.Pruned, again.Expired));
    }

    [Fact]
    public async Task ApplyAsync_ExpiredBackupARestoreNeeds_StaysUntilTheRestoreEnds()
    {
        var (service, stores, targetId) = await ArrangeAsync(days: 20);
        Guid restore = Guid.NewGuid();
        BackupRecord needed;
        await using (var db = await catalog.Factory.CreateDbContextAsync())
        {
            needed = await db.Backups.SingleAsync(b => b.TargetId == targetId && b.CreatedAt.Day == 12);
            db.Add(RunFixtures.Run(RunKind.Restore, targetId, restore));
            db.Set<Core.Restores.RestoreRun>().Add(new Core.Restores.RestoreRun { Id = restore, BackupId = needed.Id, BackupFileName = needed.FileName, DatabaseName = "hj_from_the_12th" });
            await db.SaveChangesAsync();
        }

        var result = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);

        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(20 - 6 - 1, result.Expired);
        Assert.Equal([$"{needed.FileName} is needed by a queued restore into hj_from_the_12th."], result.Deferred);
        Assert.Contains("1 left for the next run", result.Summary);
        Assert.True(await stores["local"].ExistsAsync(needed.FileName, CancellationToken.None));
        Assert.True(await stores["s3"].ExistsAsync(needed.FileName, CancellationToken.None));
        await using (var db = await catalog.Factory.CreateDbContextAsync())
        {
            Assert.Equal(BackupStatus.Succeeded, (await db.Backups.SingleAsync(b => b.Id == needed.Id)).Status);
            await db.Set<RunRecord>().Where(r => r.Id == restore).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Succeeded));
        }

        var after = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);

        Assert.Equal(1, after.Expired);
        Assert.Empty(after.Deferred);
        Assert.False(await stores["local"].ExistsAsync(needed.FileName, CancellationToken.None));
    }

    [Fact]
    public async Task ApplyAsync_BackupThatIsWeeklyAndMonthlyAndLacksS3_IsCopiedOnceAndTheRunSucceeds()
    {
        // With no weekly or monthly store, both tiers live in the daily stores. A backup that only the local disk holds
        // (S3 was away) and that is the week's and the month's needed one copy to S3 for each tier; the second failed
        // with "The instance of entity type 'BackupLocation' cannot be tracked" and Hangfire retried the whole run.
        var (service, stores, targetId) = await ArrangeAsync(days: 1, weeklyStore: false, newestOnlyIn: ["local"]);

        var result = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);

        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal((1, 0, 0), (result.Copied, result.Pruned, result.Expired));
        await using var db = await catalog.Factory.CreateDbContextAsync();
        var record = await db.Backups.Include(b => b.Locations).SingleAsync(b => b.TargetId == targetId);
        Assert.Equal(["local", "s3"], record.Locations.Select(l => l.Store).Order());
        Assert.True(await stores["s3"].ExistsAsync(record.FileName, CancellationToken.None));
        Assert.True(await stores["s3"].ExistsAsync(BackupManifest.KeyFor(record.FileName), CancellationToken.None));
    }

    [Fact]
    public async Task ApplyAsync_AnotherInstanceHoldsTheLock_ChangesNothing()
    {
        var (service, stores, targetId) = await ArrangeAsync(days: 10);
        await using (await new ConsoleLocks(catalog.Factory).TryAcquireAsync(ConsoleLocks.ForRetention(targetId), CancellationToken.None))
        {
            var result = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);

            Assert.False(result.Ran);
            Assert.Contains("already running", result.Summary);
        }

        await using var db = await catalog.Factory.CreateDbContextAsync();
        Assert.Equal(10, await db.Backups.CountAsync(b => b.TargetId == targetId && b.Status == BackupStatus.Succeeded));
        Assert.Equal(10, await SizeOfAsync(stores["local"]) / 2);
    }

    [Fact]
    public async Task ApplyAsync_LatestRunFailed_DeletesNothing()
    {
        var (service, stores, targetId) = await ArrangeAsync(days: 20, lastFailed: true);

        var result = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);

        Assert.True(result.Plan!.SafetyHold);
        Assert.Equal(0, result.Expired);
        Assert.Equal(0, result.Pruned);
        Assert.Equal(19 * 2, await SizeOfAsync(stores["local"]));
    }

    [Fact]
    public async Task ApplyAsync_ViewerActor_IsDeniedAndNothingChanges()
    {
        var (service, _, targetId) = await ArrangeAsync(days: 10);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => service.ApplyAsync(targetId, new Actor(TestAccounts.ViewerId, "viewer@example.com", [ConsoleRoles.Viewer]), CancellationToken.None));

        await using var db = await catalog.Factory.CreateDbContextAsync();
        Assert.Equal(10, await db.Backups.CountAsync(b => b.TargetId == targetId && b.Status == BackupStatus.Succeeded));
    }

    public void Dispose()
    {
        if (Directory.Exists(_localDirectory))
        {
            Directory.Delete(_localDirectory, recursive: true);
        }
    }

    /// <param name="weeklyStore">Whether the weekly tier has a store of its own; without, weekly and monthly backups live in the daily stores.</param>
    /// <param name="newestOnlyIn">Stores the newest backup reached (it is then partially stored); all daily stores by default.</param>
    private async Task<(RetentionService Service, Dictionary<string, IBackupStore> Stores, Guid TargetId)> ArrangeAsync(int days, bool lastFailed = false, bool weeklyStore = true, string[]? newestOnlyIn = null)
    {
        var bucket = "r" + Guid.NewGuid().ToString("N")[..16];
        var stores = new Dictionary<string, IBackupStore>
        {
            ["local"] = new LocalDiskBackupStore("local", _localDirectory),
            ["s3"] = await s3.CreateStoreAsync("s3", bucket, "daily"),
        };
        if (weeklyStore)
        {
            stores["s3-weekly"] = await s3.CreateStoreAsync("s3-weekly", bucket + "-dr", "");
        }
        var targetId = Guid.NewGuid();
        await using (var db = await catalog.Factory.CreateDbContextAsync())
        {
            db.Targets.Add(new BackupTarget { Id = targetId, Name = "t-" + targetId.ToString("N")[..8], CreatedAt = Now });
            for (var i = 0; i < days; i++)
            {
                var at = new DateTimeOffset(2025, 3, 15, 2, 0, 0, TimeSpan.Zero).AddDays(-i);
                var failed = lastFailed && i == 0;
                var record = new BackupRecord
                {
                    Id = Guid.NewGuid(),
                    TargetId = targetId,
                    // The tests of this class share one catalog, where file names are unique: each target's own suffix.
                    FileName = BackupNaming.FileNameFor(at, targetId.ToString("N")[..6]),
                    CreatedAt = at,
                    Status = failed ? BackupStatus.Failed : i == 0 && newestOnlyIn is not null ? BackupStatus.PartiallyStored : BackupStatus.Succeeded,
                };
                if (!failed)
                {
                    foreach (var store in new[] { stores["local"], stores["s3"] }.Where(st => i > 0 || newestOnlyIn is null || newestOnlyIn.Contains(st.Name)))
                    {
                        await using (var upload = await store.BeginUploadAsync(record.FileName, CancellationToken.None))
                        {
                            await upload.Stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes("PGDMP " + record.FileName));
                            await upload.CompleteAsync(CancellationToken.None);
                        }

                        await store.PutSmallAsync(BackupManifest.KeyFor(record.FileName), "{}"u8.ToArray(), CancellationToken.None);
                        record.Locations.Add(new BackupLocation { BackupId = record.Id, Store = store.Name, Key = record.FileName, StoredAt = at });
                    }
                }

                db.Backups.Add(record);
            }

            await db.SaveChangesAsync();
        }

        var registry = new BackupStoreRegistry(stores.Values, Options.Create(new StorageTierOptions()));
        var time = new FakeTimeProvider(Now);
        var service = new RetentionService(
            catalog.Factory,
            registry,
            new AuditLog(catalog.Factory, time),
            new CallerGate(catalog.Factory, new AuditLog(catalog.Factory, time), time),
            // A minimum of one (the default keeps the newest seven) so that these tests are about the tiers; the minimum
            // count has its own tests in RetentionPlannerTests.
            Options.Create(new RetentionOptions { Daily = 3, Weekly = 2, Monthly = 1, MinimumKept = 1 }),
            Options.Create(new ScheduleOptions { TimeZone = "Etc/UTC" }),
            new ConsoleLocks(catalog.Factory),
            new HelloJohn.Console.Core.Sets.SetRetention(registry, NullLogger<HelloJohn.Console.Core.Sets.SetRetention>.Instance),
            time,
            NullLogger<RetentionService>.Instance);
        return (service, stores, targetId);
    }

    private static async Task<int> SizeOfAsync(IBackupStore store) => (await S3BackupStoreTests.ToListAsync(store.ListAsync("", CancellationToken.None))).Count;
}
