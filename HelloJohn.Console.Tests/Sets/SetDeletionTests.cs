using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Retention;
using HelloJohn.Console.Tests.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>An administrator deletes a whole set: every member's dump and manifest and the set's roles and manifest, from
/// the local disk and a real s3rver; only with the set's name typed, never a running, pinned or newest verified one (nor
/// one holding a database's newest verified dump); nothing removed when refused; every attempt audited.</summary>
[Trait("Capability", "Sets")]
public sealed class SetDeletionTests(CatalogDatabaseFixture catalog, S3rverFixture s3) : IClassFixture<CatalogDatabaseFixture>, IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private static readonly Actor Admin = new(TestAccounts.AdminId, "admin@example.test", [ConsoleRoles.Admin]);
    private static readonly Actor Operator = new(TestAccounts.OperatorId, "operator@example.test", [ConsoleRoles.Operator]);
    private static readonly DateTimeOffset Start = new(2025, 3, 10, 2, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hjc-set-delete-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Guid _targetId = Guid.NewGuid();
    private string Tag => _targetId.ToString("N")[..6];
    private BackupStoreRegistry _stores = null!;
    private SetDeletionService _service = null!;

    public async Task InitializeAsync()
    {
        _stores = new BackupStoreRegistry([new LocalDiskBackupStore("local", _directory), await s3.CreateStoreAsync("s3")], Options.Create(new StorageTierOptions()));
        var audit = new AuditLog(catalog.Factory, TimeProvider.System);
        _service = new SetDeletionService(catalog.Factory, _stores, new SetRetention(_stores, NullLogger<SetRetention>.Instance), audit,
            new CallerGate(catalog.Factory, audit, TimeProvider.System), new ConsoleLocks(catalog.Factory), TimeProvider.System,
            NullLogger<SetDeletionService>.Instance, new VerificationHistory(catalog.Factory));
        await using var db = await catalog.Factory.CreateDbContextAsync();
        db.Targets.Add(new BackupTarget { Id = _targetId, Name = "del-" + Tag, CreatedAt = Start });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task Delete_NameTyped_RemovesEveryMemberRolesAndManifestFromEveryStoreAndKeepsTheCatalogAsExpired()
    {
        var older = await SeedSetAsync(0, ("tenant_a", true), ("tenant_b", false));
        var newer = await SeedSetAsync(1, ("tenant_a", true), ("tenant_b", true));
        await VerifyAsync(newer);
        Assert.True(await AllEverywhereAsync(older));

        var result = await _service.DeleteAsync(Admin, older.Id, older.Name, CancellationToken.None);

        Assert.Equal(["local", "s3"], result.Stores);
        Assert.Equal(1, result.Dumps);
        Assert.Contains($"{older.Name} was deleted", result.Message);
        foreach (var key in Keys(older))
        {
            Assert.False(await AnywhereAsync(key), $"{key} is still stored");
        }

        await using var db = await catalog.Factory.CreateDbContextAsync();
        var set = await db.Set<BackupSet>().SingleAsync(s => s.Id == older.Id);
        Assert.Equal(BackupSetStatus.Expired, set.Status);
        Assert.NotNull(set.ExpiredAt);
        var members = await db.Backups.Include(b => b.Locations).Where(b => b.SetId == older.Id).ToListAsync();
        Assert.All(members, m => Assert.Equal(BackupStatus.Expired, m.Status));
        Assert.All(members, m => Assert.Empty(m.Locations));
        // The other set is untouched.
        Assert.True(await AllEverywhereAsync(newer));
        var audit = await LastAuditAsync(AuditActions.SetDeleted, older.Name);
        Assert.Equal(AuditOutcome.Succeeded, audit.Outcome);
        Assert.Equal("admin@example.test", audit.Actor);
        Assert.Equal(2, await db.Set<AuditEvent>().CountAsync(a => a.Action == AuditActions.BackupDeleted && a.Outcome == AuditOutcome.Succeeded
            && members.Select(m => $"del-{Tag}/{m.FileName}").Contains(a.Target!)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("hellojohn_set_wrong")]
    public async Task Delete_NameNotTyped_IsRefusedAndNothingIsDeleted(string? typed)
    {
        var set = await SeedSetAsync(0, ("tenant_a", true));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, set.Id, typed, CancellationToken.None));

        Assert.Contains($"Type the set's name {set.Name} exactly", e.Message);
        await AssertUntouchedAsync(set, e.Message);
    }

    [Fact]
    public async Task Delete_PinnedSet_IsRefusedUntilUnpinned()
    {
        var set = await SeedSetAsync(0, ("tenant_a", true));
        await SetAsync(set.Id, s => s.Pinned = true);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, set.Id, set.Name, CancellationToken.None));
        Assert.Contains("is pinned", e.Message);
        await AssertUntouchedAsync(set, e.Message);

        await SetAsync(set.Id, s => s.Pinned = false);
        await _service.DeleteAsync(Admin, set.Id, set.Name, CancellationToken.None);
        Assert.False(await AnywhereAsync(SetNaming.ManifestKey(set.Name)));
    }

    [Theory]
    [InlineData(BackupSetStatus.Queued)]
    [InlineData(BackupSetStatus.Running)]
    public async Task Delete_ActiveSet_IsRefused(BackupSetStatus status)
    {
        var set = await SeedSetAsync(0, ("tenant_a", true), ("tenant_b", true));
        await SetAsync(set.Id, s => s.Status = status);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, set.Id, set.Name, CancellationToken.None));

        Assert.Contains("cancel it instead", e.Message);
        await AssertUntouchedAsync(set, e.Message, status);
    }

    [Fact]
    public async Task Delete_SetWhoseDumpARestoreNeeds_IsRefusedUntilTheRestoreEnds()
    {
        var older = await SeedSetAsync(0, ("tenant_a", true), ("tenant_b", true));
        var newer = await SeedSetAsync(1, ("tenant_a", true), ("tenant_b", true));
        await VerifyAsync(newer);
        var member = older.Members[1];
        var restore = Guid.NewGuid();
        await using (var db = await catalog.Factory.CreateDbContextAsync())
        {
            db.Add(RunFixtures.Run(RunKind.Restore, _targetId, restore));
            db.Set<Core.Restores.RestoreRun>().Add(new Core.Restores.RestoreRun { Id = restore, BackupId = member.Id, BackupFileName = member.FileName, DatabaseName = "tenant_b_copy" });
            await db.SaveChangesAsync();
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, older.Id, older.Name, CancellationToken.None));

        Assert.Contains($"{member.FileName} by a queued restore into tenant_b_copy", e.Message);
        await AssertUntouchedAsync(older, e.Message);

        await using (var db = await catalog.Factory.CreateDbContextAsync())
        {
            await db.Set<RunRecord>().Where(r => r.Id == restore).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Succeeded));
        }

        await _service.DeleteAsync(Admin, older.Id, older.Name, CancellationToken.None);
        Assert.False(await AnywhereAsync(SetNaming.ManifestKey(older.Name)));
    }

    [Fact]
    public async Task Delete_NewestVerifiedSet_IsRefusedUntilANewerSetIsVerified()
    {
        var older = await SeedSetAsync(0, ("tenant_a", true));
        var newer = await SeedSetAsync(1, ("tenant_a", true));
        await VerifyAsync(older);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, older.Id, older.Name, CancellationToken.None));
        Assert.Contains("newest verified backup", e.Message);
        await AssertUntouchedAsync(older, e.Message);

        await VerifyAsync(newer);
        await _service.DeleteAsync(Admin, older.Id, older.Name, CancellationToken.None);
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, newer.Id, newer.Name, CancellationToken.None));
        Assert.Contains("newest verified backup", again.Message);
    }

    [Fact]
    public async Task Delete_SetHoldingADatabasesNewestVerifiedDump_IsRefused()
    {
        // The newest verified set (2) has no good dump of tenant_b; set 1's tenant_b was never verified: set 0 holds the
        // last tenant_b dump a restore is known to work from.
        var first = await SeedSetAsync(0, ("tenant_a", true), ("tenant_b", true));
        var second = await SeedSetAsync(1, ("tenant_a", true), ("tenant_b", true));
        var third = await SeedSetAsync(2, ("tenant_a", true), ("tenant_b", false));
        await VerifyAsync(first);
        await VerifyAsync(second, "tenant_a");
        await VerifyAsync(third);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, first.Id, first.Name, CancellationToken.None));

        Assert.Contains($"holds the newest verified backup of {Db("tenant_b")}", e.Message);
        Assert.DoesNotContain(Db("tenant_a"), e.Message);
        await AssertUntouchedAsync(first, e.Message);
    }

    [Fact]
    public async Task Delete_ByAnOperator_IsDeniedAndNothingIsDeleted()
    {
        var set = await SeedSetAsync(0, ("tenant_a", true));

        await Assert.ThrowsAsync<PermissionDeniedException>(() => _service.DeleteAsync(Operator, set.Id, set.Name, CancellationToken.None));

        Assert.True(await AllEverywhereAsync(set));
        Assert.Equal(AuditOutcome.Denied, (await LastAuditAsync(AuditActions.SetDeleted, set.Id.ToString())).Outcome);
    }

    [Fact]
    public async Task Delete_MemberInAStoreNoLongerConfigured_RemovesTheRestKeepsTheSetListedAndAuditsTheFailure()
    {
        var set = await SeedSetAsync(0, ("tenant_a", true), ("tenant_b", true));
        var stranded = set.Members[0];
        await using (var db = await catalog.Factory.CreateDbContextAsync())
        {
            db.Add(new BackupLocation { BackupId = stranded.Id, Store = "retired", Key = stranded.FileName, StoredAt = Start });
            await db.SaveChangesAsync();
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.DeleteAsync(Admin, set.Id, set.Name, CancellationToken.None));

        Assert.Contains("only partly deleted", e.Message);
        Assert.Contains("'retired'", e.Message);
        Assert.False(await AnywhereAsync(set.Members[1].FileName));
        // The set's own files stay while a member is left: they still describe it.
        Assert.True(await EverywhereAsync(SetNaming.ManifestKey(set.Name)));
        await using var check = await catalog.Factory.CreateDbContextAsync();
        Assert.Equal(BackupSetStatus.Succeeded, (await check.Set<BackupSet>().SingleAsync(s => s.Id == set.Id)).Status);
        Assert.Equal(BackupStatus.Succeeded, (await check.Backups.SingleAsync(b => b.Id == stranded.Id)).Status);
        Assert.Equal(BackupStatus.Expired, (await check.Backups.SingleAsync(b => b.Id == set.Members[1].Id)).Status);
        Assert.Equal(AuditOutcome.Failed, (await LastAuditAsync(AuditActions.SetDeleted, set.Name)).Outcome);
    }

    [Fact]
    public async Task Delete_UnknownSet_SaysSo()
    {
        var e = await Assert.ThrowsAsync<KeyNotFoundException>(() => _service.DeleteAsync(Admin, Guid.NewGuid(), "x", CancellationToken.None));
        Assert.Contains("Nothing was deleted", e.Message);
    }

    private sealed record SeededSet(Guid Id, string Name, string RolesFileName, IReadOnlyList<BackupRecord> Members);

    private string Db(string name) => $"{name}_{Tag}";

    /// <summary>A set taken <paramref name="day"/> days after the start, its kept members' dumps and manifests, its roles
    /// file and manifest in both stores.</summary>
    private async Task<SeededSet> SeedSetAsync(int day, params (string Database, bool Kept)[] members)
    {
        var at = Start.AddDays(day);
        var name = $"{SetNaming.SetName(at)}_{Tag}";
        var set = new BackupSet
        {
            Id = Guid.NewGuid(), TargetId = _targetId, Name = name, Trigger = BackupTrigger.Scheduled, CreatedAt = at, StartedAt = at, FinishedAt = at.AddMinutes(5),
            Status = members.All(m => m.Kept) ? BackupSetStatus.Succeeded : BackupSetStatus.Partial, RolesFileName = name + SetNaming.RolesSuffix, MemberCount = members.Length,
        };
        set.CurrentRunId = set.Id;
        var records = new List<BackupRecord>();
        foreach (var store in _stores.All)
        {
            await store.PutSmallAsync(set.RolesFileName, "CREATE ROLE x;"u8.ToArray(), CancellationToken.None);
            await store.PutSmallAsync(SetNaming.ManifestKey(name), "{}"u8.ToArray(), CancellationToken.None);
        }

        foreach (var (database, kept) in members)
        {
            var member = new BackupRecord
            {
                Id = Guid.NewGuid(), TargetId = _targetId, SetId = set.Id, DatabaseName = Db(database), CreatedAt = at, StartedAt = at,
                FileName = SetNaming.MemberFileName(Db(database), at, ".dump.zst"), Status = kept ? BackupStatus.Succeeded : BackupStatus.Failed,
            };
            if (kept)
            {
                foreach (var store in _stores.All)
                {
                    await using (var upload = await store.BeginUploadAsync(member.FileName, CancellationToken.None))
                    {
                        await upload.Stream.WriteAsync("PGDMP"u8.ToArray());
                        await upload.CompleteAsync(CancellationToken.None);
                    }

                    await store.PutSmallAsync(BackupManifest.KeyFor(member.FileName), "{}"u8.ToArray(), CancellationToken.None);
                    member.Locations.Add(new BackupLocation { BackupId = member.Id, Store = store.Name, Key = member.FileName, StoredAt = at });
                }
            }

            records.Add(member);
        }

        await using var db = await catalog.Factory.CreateDbContextAsync();
        db.Add(set);
        db.Backups.AddRange(records);
        await db.SaveChangesAsync();
        return new SeededSet(set.Id, name, set.RolesFileName, records);
    }

    /// <summary>A passed verification of the set's kept members (of <paramref name="only"/> when given).</summary>
    private async Task VerifyAsync(SeededSet set, string? only = null)
    {
        await using var db = await catalog.Factory.CreateDbContextAsync();
        foreach (var member in set.Members.Where(m => m.Status == BackupStatus.Succeeded && (only is null || m.DatabaseName == Db(only))))
        {
            var id = Guid.NewGuid();
            var now = DateTimeOffset.UtcNow;
            db.Add(RunFixtures.Ended(RunKind.Verification, _targetId, id, RunStatus.Succeeded, now.AddMinutes(-1), now.AddMinutes(-1), now));
            db.Set<VerificationRun>().Add(new VerificationRun { Id = id, BackupId = member.Id, BackupFileName = member.FileName });
        }

        await db.SaveChangesAsync();
    }

    private async Task SetAsync(Guid id, Action<BackupSet> change)
    {
        await using var db = await catalog.Factory.CreateDbContextAsync();
        change(await db.Set<BackupSet>().SingleAsync(s => s.Id == id));
        await db.SaveChangesAsync();
    }

    private static IEnumerable<string> Keys(SeededSet set) =>
        set.Members.Where(m => m.Status == BackupStatus.Succeeded).SelectMany(m => new[] { m.FileName, BackupManifest.KeyFor(m.FileName) })
            .Append(set.RolesFileName).Append(SetNaming.ManifestKey(set.Name));

    private async Task AssertUntouchedAsync(SeededSet set, string refusal, BackupSetStatus status = BackupSetStatus.Succeeded)
    {
        Assert.Contains("Nothing was deleted", refusal);
        Assert.True(await AllEverywhereAsync(set));
        await using var db = await catalog.Factory.CreateDbContextAsync();
        Assert.Equal(status, (await db.Set<BackupSet>().SingleAsync(s => s.Id == set.Id)).Status);
        var members = await db.Backups.Include(b => b.Locations).Where(b => b.SetId == set.Id).ToListAsync();
        Assert.All(members.Where(m => set.Members.Single(s => s.Id == m.Id).Status == BackupStatus.Succeeded), m =>
        {
            Assert.Equal(BackupStatus.Succeeded, m.Status);
            Assert.Equal(["local", "s3"], m.Locations.Select(l => l.Store).Order());
        });
        var audit = await LastAuditAsync(AuditActions.SetDeleted, set.Name);
        Assert.Equal(AuditOutcome.Failed, audit.Outcome);
        Assert.Equal(refusal, audit.Detail);
    }

    private async Task<bool> AllEverywhereAsync(SeededSet set)
    {
        foreach (var key in Keys(set))
        {
            if (!await EverywhereAsync(key))
            {
                return false;
            }
        }

        return true;
    }

    private async Task<bool> EverywhereAsync(string key)
    {
        foreach (var store in _stores.All)
        {
            if (!await store.ExistsAsync(key, CancellationToken.None))
            {
                return false;
            }
        }

        return true;
    }

    private async Task<bool> AnywhereAsync(string key)
    {
        foreach (var store in _stores.All)
        {
            if (await store.ExistsAsync(key, CancellationToken.None))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<AuditEvent> LastAuditAsync(string action, string subjectEnd)
    {
        await using var db = await catalog.Factory.CreateDbContextAsync();
        return await db.Set<AuditEvent>().Where(a => a.Action == action && a.Target!.EndsWith(subjectEnd)).OrderByDescending(a => a.Id).FirstAsync();
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}
