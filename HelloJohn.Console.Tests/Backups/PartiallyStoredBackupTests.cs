using System.Security.Cryptography;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Storage;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Backups;

/// <summary>The daily tier on local disk and S3 (a real s3rver): an S3 outage must not cost the local copy, and a retry
/// must complete the backup from it.</summary>
[Trait("Capability", "Storage")]
[Collection(PostgresCollection.Name)]
public sealed class PartiallyStoredBackupTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    private readonly S3rverFixture _s3 = new();
    private ConsoleAppFactory? _app;
    private readonly string _bucket = "daily" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync()
    {
        await _s3.InitializeAsync();
        await _s3.EnsureBucketAsync(_bucket);
        _app = new ConsoleAppFactory(postgres);
        _app.Settings["Storage:S3:Bucket"] = _bucket;
        _app.Settings["Storage:S3:ServiceUrl"] = _s3.ServiceUrl;
        _app.Settings["Storage:S3:ForcePathStyle"] = "true";
        _app.Settings["Storage:S3:Region"] = "us-east-1";
        _app.Settings["Storage:S3:AccessKeyId"] = S3rverFixture.AccessKey;
        _app.Settings["Storage:S3:SecretAccessKey"] = S3rverFixture.SecretKey;
        await _app.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await _s3.DisposeAsync();
    }

    [Fact]
    public async Task RunNow_BothStoresUp_IsStoredInBoth()
    {
        var id = await _app!.Service<BackupService>().RunNowAsync(Operator, await TargetAsync(), BackupTrigger.Manual, CancellationToken.None);

        var record = await RecordAsync(id);
        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.Equal(["local", "s3"], record.Locations.Select(l => l.Store).Order());
        Assert.Equal(record.Sha256, await Sha256InS3Async(record.FileName));
        Assert.True(await S3().ExistsAsync(BackupManifest.KeyFor(record.FileName), CancellationToken.None));
    }

    [Fact]
    public async Task RunNow_S3Down_KeepsTheLocalCopyAndRetryCompletesIt()
    {
        var backups = _app!.Service<BackupService>();
        _s3.Kill();

        var id = await backups.RunNowAsync(Operator, await TargetAsync(), BackupTrigger.Manual, CancellationToken.None);

        var record = await RecordAsync(id);
        Assert.Equal(BackupStatus.PartiallyStored, record.Status);
        Assert.Equal(["local"], record.Locations.Select(l => l.Store));
        Assert.Contains("Stored in local only; not in s3", record.Error);
        Assert.True(File.Exists(Path.Combine(_app.BackupDirectory, record.FileName)));

        await _s3.StartAsync();
        var reached = await backups.RetryUploadAsync(Operator, id, CancellationToken.None);

        Assert.Equal(["s3"], reached);
        record = await RecordAsync(id);
        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.Null(record.Error);
        Assert.Equal(["local", "s3"], record.Locations.Select(l => l.Store).Order());
        Assert.Equal(record.Sha256, await Sha256InS3Async(record.FileName));
    }

    [Fact]
    public async Task RetryUpload_SucceededBackup_IsRefused()
    {
        var backups = _app!.Service<BackupService>();
        var id = await backups.RunNowAsync(Operator, await TargetAsync(), BackupTrigger.Manual, CancellationToken.None);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => backups.RetryUploadAsync(Operator, id, CancellationToken.None));
        Assert.Contains("only a partially stored backup", e.Message);
    }

    private IBackupStore S3() => _app!.Service<IBackupStoreRegistry>().Get("s3");

    private async Task<string> Sha256InS3Async(string key)
    {
        await using var stream = await S3().OpenReadAsync(key, CancellationToken.None);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
    }

    private async Task<Guid> TargetAsync() => (await _app!.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

    private async Task<BackupRecord> RecordAsync(Guid id)
    {
        await using var db = await _app!.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Backups.Include(b => b.Locations).SingleAsync(b => b.Id == id);
    }
}
