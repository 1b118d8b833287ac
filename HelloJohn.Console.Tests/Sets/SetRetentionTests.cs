using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Retention;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>Retention keeps and expires whole sets: members, roles and set manifest together; a pinned set stays; and a
/// set holding a database's newest good dump stays while later sets fail for that database.</summary>
[Trait("Capability", "Sets")]
public sealed class SetRetentionTests(CatalogDatabaseFixture catalog) : IClassFixture<CatalogDatabaseFixture>, IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 3, 15, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hjc-set-retention-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Apply_TieredPolicy_ExpiresWholeSets_KeepsPinnedAndTheNewestGoodDumpOfAFailingDatabase()
    {
        var store = new LocalDiskBackupStore("local", _directory);
        var registry = new BackupStoreRegistry([store], Options.Create(new StorageTierOptions()));
        var targetId = Guid.NewGuid();
        var tag = targetId.ToString("N")[..6];
        var sets = new Dictionary<int, Guid>();
        await using (var db = await catalog.Factory.CreateDbContextAsync())
        {
            db.Targets.Add(new BackupTarget { Id = targetId, Name = "sets-" + tag, CreatedAt = Now });
            // One set a day from 4 to 15 March; tenant_b fails from the 11th on.
            for (var day = 4; day <= 15; day++)
            {
                var at = new DateTimeOffset(2025, 3, day, 2, 0, 0, TimeSpan.Zero);
                var set = new BackupSet
                {
                    Id = Guid.NewGuid(), TargetId = targetId, Name = $"{SetNaming.SetName(at)}_{tag}", Trigger = BackupTrigger.Scheduled,
                    Status = day >= 11 ? BackupSetStatus.Partial : BackupSetStatus.Succeeded, CreatedAt = at, StartedAt = at, FinishedAt = at.AddMinutes(5),
                    RolesFileName = $"{SetNaming.SetName(at)}_{tag}{SetNaming.RolesSuffix}", Pinned = day == 6,
                };
                set.CurrentRunId = set.Id;
                sets[day] = set.Id;
                db.Add(set);
                await store.PutSmallAsync(set.RolesFileName, "CREATE ROLE x;"u8.ToArray(), CancellationToken.None);
                await store.PutSmallAsync(SetNaming.ManifestKey(set.Name), "{}"u8.ToArray(), CancellationToken.None);
                foreach (var database in new[] { "tenant_a", "tenant_b" })
                {
                    var failed = database == "tenant_b" && day >= 11;
                    var member = new BackupRecord
                    {
                        Id = Guid.NewGuid(), TargetId = targetId, SetId = set.Id, DatabaseName = database, CreatedAt = at, StartedAt = at,
                        FileName = SetNaming.MemberFileName($"{database}_{tag}", at, ".dump.zst"),
                        Status = failed ? BackupStatus.Failed : BackupStatus.Succeeded,
                    };
                    if (!failed)
                    {
                        await using (var upload = await store.BeginUploadAsync(member.FileName, CancellationToken.None))
                        {
                            await upload.Stream.WriteAsync("PGDMP"u8.ToArray());
                            await upload.CompleteAsync(CancellationToken.None);
                        }

                        await store.PutSmallAsync(BackupManifest.KeyFor(member.FileName), "{}"u8.ToArray(), CancellationToken.None);
                        member.Locations.Add(new BackupLocation { BackupId = member.Id, Store = store.Name, Key = member.FileName, StoredAt = at });
                    }

                    db.Backups.Add(member);
                }
            }

            await db.SaveChangesAsync();
        }

        var time = new FakeTimeProvider(Now);
        var service = new RetentionService(catalog.Factory, registry, new AuditLog(catalog.Factory, time), new CallerGate(catalog.Factory, new AuditLog(catalog.Factory, time), time),
            Options.Create(new RetentionOptions { Daily = 3, Weekly = 2, Monthly = 1, MinimumKept = 1 }), Options.Create(new ScheduleOptions { TimeZone = "Etc/UTC" }),
            new ConsoleLocks(catalog.Factory), new SetRetention(registry, NullLogger<SetRetention>.Instance), time, NullLogger<RetentionService>.Instance);

        var plan = await service.PreviewAsync(targetId, CancellationToken.None);
        Assert.Contains("newest good dump of tenant_b", plan.For(sets[10]).Explanation);
        var result = await service.ApplyAsync(targetId, Actor.System, CancellationToken.None);

        Assert.True(result.Succeeded, result.Summary);
        await using var check = await catalog.Factory.CreateDbContextAsync();
        var after = await check.Set<BackupSet>().Where(s => s.TargetId == targetId).ToDictionaryAsync(s => s.Id);
        var members = await check.Backups.Where(b => b.TargetId == targetId).ToListAsync();
        // Daily 13–15, weekly 9 and 4, monthly 4; 6 pinned; 10 holds tenant_b's newest good dump.
        var kept = sets.Where(kv => after[kv.Value].Status != BackupSetStatus.Expired).Select(kv => kv.Key).Order();
        Assert.Equal([4, 6, 9, 10, 13, 14, 15], kept);
        foreach (var (day, id) in sets)
        {
            var set = after[id];
            var own = members.Where(m => m.SetId == id).ToList();
            if (set.Status == BackupSetStatus.Expired)
            {
                // Never half a set: every member, its roles and its manifest are gone together.
                Assert.All(own, m => Assert.Equal(BackupStatus.Expired, m.Status));
                Assert.All(own, m => Assert.False(File.Exists(Path.Combine(_directory, m.FileName))));
                Assert.False(File.Exists(Path.Combine(_directory, set.RolesFileName!)));
                Assert.False(File.Exists(Path.Combine(_directory, SetNaming.ManifestKey(set.Name))));
            }
            else
            {
                Assert.DoesNotContain(own, m => m.Status == BackupStatus.Expired);
                Assert.All(own.Where(m => m.Status == BackupStatus.Succeeded), m => Assert.True(File.Exists(Path.Combine(_directory, m.FileName))));
                Assert.True(File.Exists(Path.Combine(_directory, SetNaming.ManifestKey(set.Name))), $"manifest of the set of day {day}");
            }
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
