using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Storage;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Backups;

/// <summary>An administrator deletes a backup file: from the local disk and S3 (a real s3rver), manifests with it, only
/// with the file name typed, never the pinned one, the running one or the newest verified one; every attempt audited.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class BackupDeletionTests(BackupDeletionTests.App app) : IClassFixture<BackupDeletionTests.App>
{
    private static readonly Actor Admin = new(TestAccounts.AdminId, "admin@example.test", [ConsoleRoles.Admin]);
    private static readonly Actor Operator = new(TestAccounts.OperatorId, "operator@example.test", [ConsoleRoles.Operator]);

    /// <summary>A console whose daily tier is the local disk and a real s3rver.</summary>
    public sealed class App(PostgresClusterFixture postgres) : ConsoleAppFactory(postgres), IAsyncLifetime
    {
        private readonly S3rverFixture _s3 = new();
        private readonly string _bucket = "delete" + Guid.NewGuid().ToString("N")[..10];

        public override async Task InitializeAsync()
        {
            await _s3.InitializeAsync();
            await _s3.EnsureBucketAsync(_bucket);
            Settings["Storage:S3:Bucket"] = _bucket;
            Settings["Storage:S3:ServiceUrl"] = _s3.ServiceUrl;
            Settings["Storage:S3:ForcePathStyle"] = "true";
            Settings["Storage:S3:Region"] = "us-east-1";
            Settings["Storage:S3:AccessKeyId"] = S3rverFixture.AccessKey;
            Settings["Storage:S3:SecretAccessKey"] = S3rverFixture.SecretKey;
            await base.InitializeAsync();
        }

        public new async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await _s3.DisposeAsync();
        }
    }

    private readonly App _app = app;

    private BackupDeletionService Deletions => _app.Service<BackupDeletionService>();

    [Fact]
    public async Task Delete_FileNameTyped_RemovesDumpAndManifestFromEveryStoreAndKeepsTheRecordAsExpired()
    {
        var record = await BackUpAsync();
        Assert.Equal(["local", "s3"], record.Locations.Select(l => l.Store).Order());
        Assert.True(await ExistsEverywhereAsync(record.FileName));

        var result = await Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None);

        Assert.Equal(["local", "s3"], result.Stores.Order());
        Assert.False(await ExistsAnywhereAsync(record.FileName));
        Assert.False(await ExistsAnywhereAsync(BackupManifest.KeyFor(record.FileName)));
        record = await RecordAsync(record.Id);
        Assert.Equal(BackupStatus.Expired, record.Status);
        Assert.NotNull(record.ExpiredAt);
        Assert.Empty(record.Locations);
        var audit = await LastDeleteAuditAsync(record.FileName);
        Assert.Equal(AuditOutcome.Succeeded, audit.Outcome);
        Assert.Equal("admin@example.test", audit.Actor);
        Assert.Contains("'local'", audit.Detail);
        Assert.Contains("'s3'", audit.Detail);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("hellojohn_wrong.dump")]
    public async Task Delete_FileNameNotTyped_IsRefusedAndNothingIsDeleted(string? typed)
    {
        var record = await BackUpAsync();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, record.Id, typed, CancellationToken.None));

        Assert.Contains($"Type the file name {record.FileName} exactly", e.Message);
        Assert.Contains("Nothing was deleted", e.Message);
        await AssertUntouchedAsync(record);
        Assert.Equal(AuditOutcome.Failed, (await LastDeleteAuditAsync(record.FileName)).Outcome);
    }

    [Fact]
    public async Task Delete_PinnedBackup_IsRefusedUntilUnpinned()
    {
        var record = await BackUpAsync();
        var backups = _app.Service<BackupService>();
        await backups.PinAsync(Admin, record.Id, true, CancellationToken.None);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None));
        Assert.Contains("is pinned", e.Message);
        await AssertUntouchedAsync(record);

        await backups.PinAsync(Admin, record.Id, false, CancellationToken.None);
        await Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None);
        Assert.Equal(BackupStatus.Expired, (await RecordAsync(record.Id)).Status);
    }

    [Fact]
    public async Task Delete_BackupARestoreOrVerificationNeeds_IsRefusedUntilThatRunEnds()
    {
        var record = await BackUpAsync();
        var restore = Guid.NewGuid();
        var verification = Guid.NewGuid();
        await using (var db = await Factory().CreateDbContextAsync())
        {
            db.Add(RunFixtures.Run(RunKind.Restore, record.TargetId, restore));
            db.Set<Core.Restores.RestoreRun>().Add(new Core.Restores.RestoreRun { Id = restore, BackupId = record.Id, BackupFileName = record.FileName, DatabaseName = "hj_copy_in_use" });
            db.Add(RunFixtures.Run(RunKind.Verification, record.TargetId, verification));
            db.Set<VerificationRun>().Add(new VerificationRun { Id = verification, BackupId = record.Id, BackupFileName = record.FileName });
            await db.SaveChangesAsync();
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None));
        Assert.Contains("is needed by a queued restore into hj_copy_in_use", e.Message);
        Assert.Contains("Nothing was deleted", e.Message);
        await AssertUntouchedAsync(record);
        Assert.Equal(AuditOutcome.Failed, (await LastDeleteAuditAsync(record.FileName)).Outcome);

        await EndRunAsync(restore);
        var stillVerifying = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None));
        Assert.Contains("is needed by a queued verification", stillVerifying.Message);
        await AssertUntouchedAsync(record);

        await EndRunAsync(verification);
        await Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None);
        Assert.Equal(BackupStatus.Expired, (await RecordAsync(record.Id)).Status);
    }

    private async Task EndRunAsync(Guid runId)
    {
        await using var db = await Factory().CreateDbContextAsync();
        await db.Set<RunRecord>().Where(r => r.Id == runId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Cancelled).SetProperty(r => r.FinishedAt, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Delete_NewestVerifiedBackup_IsRefusedUntilANewerOneIsVerified()
    {
        var older = await BackUpAsync();
        var newer = await BackUpAsync();
        await SeedPassedVerificationAsync(older);

        // The newer one was never verified: the older is the last a restore is known to work from.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, older.Id, older.FileName, CancellationToken.None));
        Assert.Contains("newest verified backup", e.Message);
        await AssertUntouchedAsync(older);

        await SeedPassedVerificationAsync(newer);
        await Deletions.DeleteAsync(Admin, older.Id, older.FileName, CancellationToken.None);
        Assert.Equal(BackupStatus.Expired, (await RecordAsync(older.Id)).Status);
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, newer.Id, newer.FileName, CancellationToken.None));
        Assert.Contains("newest verified backup", again.Message);
    }

    [Theory]
    [InlineData(BackupStatus.Queued, "cancel it instead")]
    [InlineData(BackupStatus.Running, "cancel it instead")]
    [InlineData(BackupStatus.Failed, "has no file to delete")]
    public async Task Delete_BackupWithoutAFinishedFile_IsRefused(BackupStatus status, string expected)
    {
        var fileName = $"hellojohn_{status.ToString().ToLowerInvariant()}_{Guid.NewGuid():N}.dump";
        var id = Guid.NewGuid();
        await using (var db = await Factory().CreateDbContextAsync())
        {
            db.Backups.Add(new BackupRecord { Id = id, TargetId = await TargetAsync(), FileName = fileName, Status = status, CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, id, fileName, CancellationToken.None));

        Assert.Contains(expected, e.Message);
        Assert.Equal(status, (await RecordAsync(id)).Status);
    }

    [Fact]
    public async Task Delete_MemberOfASet_IsRefused()
    {
        var record = await BackUpAsync();
        var setId = Guid.NewGuid();
        await using (var db = await Factory().CreateDbContextAsync())
        {
            db.Add(new HelloJohn.Console.Core.Sets.BackupSet
            {
                Id = setId, TargetId = record.TargetId, Name = $"hellojohn_set_{setId:N}", Status = HelloJohn.Console.Core.Sets.BackupSetStatus.Succeeded,
                CreatedAt = DateTimeOffset.UtcNow, CurrentRunId = Guid.NewGuid(),
            });
            await db.SaveChangesAsync();
            await db.Backups.Where(b => b.Id == record.Id).ExecuteUpdateAsync(u => u.SetProperty(b => b.SetId, setId));
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None));

        Assert.Contains("member of a backup set", e.Message);
        await AssertUntouchedAsync(record);
    }

    [Fact]
    public async Task Delete_ByAnOperator_IsDeniedAndNothingIsDeleted()
    {
        var record = await BackUpAsync();

        await Assert.ThrowsAsync<PermissionDeniedException>(() => Deletions.DeleteAsync(Operator, record.Id, record.FileName, CancellationToken.None));

        await AssertUntouchedAsync(record);
    }

    [Fact]
    public async Task Delete_UnknownBackup_SaysSo()
    {
        var e = await Assert.ThrowsAsync<KeyNotFoundException>(() => Deletions.DeleteAsync(Admin, Guid.NewGuid(), "x.dump", CancellationToken.None));
        Assert.Contains("Nothing was deleted", e.Message);
    }

    [Fact]
    public async Task Download_OfADeletedBackup_IsRefused()
    {
        var record = await BackUpAsync();
        await Deletions.DeleteAsync(Admin, record.Id, record.FileName, CancellationToken.None);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _app.Service<BackupDownloadService>().OpenAsync(Admin, record.Id, "test", CancellationToken.None));
        Assert.Contains("expired", e.Message);
    }

    private async Task<BackupRecord> BackUpAsync()
    {
        var id = await _app.Service<BackupService>().RunNowAsync(Operator, await TargetAsync(), BackupTrigger.Manual, CancellationToken.None);
        return await RecordAsync(id);
    }

    private async Task SeedPassedVerificationAsync(BackupRecord backup)
    {
        var now = DateTimeOffset.UtcNow;
        var id = Guid.NewGuid();
        await using var db = await Factory().CreateDbContextAsync();
        db.Add(RunFixtures.Ended(RunKind.Verification, backup.TargetId, id, RunStatus.Succeeded, now.AddMinutes(-1), now.AddMinutes(-1), now));
        db.Set<VerificationRun>().Add(new VerificationRun { Id = id, BackupId = backup.Id, BackupFileName = backup.FileName });
        await db.SaveChangesAsync();
    }

    private async Task AssertUntouchedAsync(BackupRecord before)
    {
        var after = await RecordAsync(before.Id);
        Assert.Equal(before.Status, after.Status);
        Assert.Equal(before.Locations.Select(l => l.Store).Order(), after.Locations.Select(l => l.Store).Order());
        Assert.True(await ExistsEverywhereAsync(before.FileName));
        Assert.True(await ExistsEverywhereAsync(BackupManifest.KeyFor(before.FileName)));
    }

    private async Task<bool> ExistsEverywhereAsync(string key)
    {
        foreach (var store in _app.Service<IBackupStoreRegistry>().All)
        {
            if (!await store.ExistsAsync(key, CancellationToken.None))
            {
                return false;
            }
        }

        return true;
    }

    private async Task<bool> ExistsAnywhereAsync(string key)
    {
        foreach (var store in _app.Service<IBackupStoreRegistry>().All)
        {
            if (await store.ExistsAsync(key, CancellationToken.None))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<AuditEvent> LastDeleteAuditAsync(string fileName)
    {
        await using var db = await Factory().CreateDbContextAsync();
        return await db.Set<AuditEvent>().Where(a => a.Action == AuditActions.BackupDeleted && a.Target!.EndsWith(fileName)).OrderByDescending(a => a.Id).FirstAsync();
    }

    private IDbContextFactory<ConsoleDbContext> Factory() => _app.Service<IDbContextFactory<ConsoleDbContext>>();

    private async Task<Guid> TargetAsync() => (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

    private async Task<BackupRecord> RecordAsync(Guid id)
    {
        await using var db = await Factory().CreateDbContextAsync();
        return await db.Backups.Include(b => b.Locations).SingleAsync(b => b.Id == id);
    }
}
