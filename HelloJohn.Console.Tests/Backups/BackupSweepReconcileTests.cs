using Amazon.S3;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Storage;
using Microsoft.EntityFrameworkCore;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Backups;

/// <summary>A backup whose console instance died is ended by the sweep, which then looks at what it left: a file that
/// was complete in storage with its manifest makes it a good backup (it is not labelled failed for ever), and the
/// unfinished S3 uploads it left are aborted. Local disk and a real s3rver.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class BackupSweepReconcileTests(PostgresClusterFixture postgres, S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres);
    private readonly string _bucket = "sweep" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync()
    {
        await s3.EnsureBucketAsync(_bucket);
        _app.Settings["Storage:S3:Bucket"] = _bucket;
        _app.Settings["Storage:S3:ServiceUrl"] = s3.ServiceUrl;
        _app.Settings["Storage:S3:Region"] = "us-east-1";
        _app.Settings["Storage:S3:AccessKeyId"] = S3rverFixture.AccessKey;
        _app.Settings["Storage:S3:SecretAccessKey"] = S3rverFixture.SecretKey;
        await _app.InitializeAsync();
    }

    public Task DisposeAsync() => _app.DisposeAsync();

    private S3BackupStore S3Store => _app.Service<IBackupStoreRegistry>().All.OfType<S3BackupStore>().Single();

    [Fact]
    public async Task Sweep_DeadInstancesBackupWhoseFileAndManifestReachedStorage_EndsTheRunAndTheBackupIsSucceeded()
    {
        // A real backup in both stores; then the catalog as a console leaves it when it dies while recording the end.
        var (id, file) = await _app.BackUpAsync();
        var fileName = Path.GetFileName(file);
        var dead = await _app.AddDeadInstanceAsync();
        await using (var db = await _app.DbAsync())
        {
            await db.Set<BackupLocation>().Where(l => l.BackupId == id).ExecuteDeleteAsync();
            await db.Set<BackupTableCount>().Where(c => c.BackupId == id).ExecuteDeleteAsync();
            await db.Backups.Where(b => b.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(b => b.Status, BackupStatus.Running).SetProperty(b => b.Sha256, (string?)null).SetProperty(b => b.FinishedAt, (DateTimeOffset?)null));
            await db.Set<RunRecord>().Where(r => r.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Running).SetProperty(r => r.Phase, nameof(BackupPhase.Storing))
                .SetProperty(r => r.OwnerInstanceId, dead).SetProperty(r => r.FinishedAt, (DateTimeOffset?)null).SetProperty(r => r.Error, (string?)null));
        }

        Assert.Equal(1, await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None));

        await using var check = await _app.DbAsync();
        var record = await check.Backups.Include(b => b.Locations).Include(b => b.TableCounts).SingleAsync(b => b.Id == id);
        Assert.True(record.Status == BackupStatus.Succeeded, $"The backup is {record.Status}: {record.Error}");
        Assert.Equal(["local", "s3"], record.Locations.Select(l => l.Store).Order());
        Assert.NotEmpty(record.TableCounts);
        Assert.NotNull(record.Sha256);
        var run = await check.Set<RunRecord>().SingleAsync(r => r.Id == id);
        Assert.Equal((RunStatus.Failed, RunFailureKind.OwnerLost), (run.Status, run.FailureKind));
        Assert.Contains("stopped before it finished", run.Error);
        Assert.Contains("Its file was complete in storage, so the backup is succeeded", run.Error);
        Assert.DoesNotContain("No file was kept", run.Error);
        Assert.True(await check.AuditEvents.AnyAsync(a => a.Action == AuditActions.BackupReconciled && a.Target == fileName));
        Assert.True(File.Exists(Path.Combine(_app.BackupDirectory, fileName)));
    }

    [Fact]
    public async Task Sweep_DeadInstancesBackupThatLeftAPartialAndAnUnfinishedUpload_FailsSaysWhatWasFoundAndAbortsTheUpload()
    {
        var targetId = await _app.DefaultTargetAsync();
        var fileName = BackupNaming.FileNameFor(new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.Zero));
        var dead = await _app.AddDeadInstanceAsync();
        await using (var db = await _app.DbAsync())
        {
            var run = RunFixtures.Run(RunKind.Backup, targetId, owner: dead, phase: nameof(BackupPhase.Dumping));
            db.Add(run);
            db.Backups.Add(new BackupRecord { Id = run.Id, TargetId = targetId, FileName = fileName, Status = BackupStatus.Running, CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        Directory.CreateDirectory(_app.BackupDirectory);
        var partial = Path.Combine(_app.BackupDirectory, fileName + ".partial");
        await File.WriteAllTextAsync(partial, "half a dump");
        using (var client = new AmazonS3Client(S3rverFixture.AccessKey, S3rverFixture.SecretKey, new AmazonS3Config { ServiceURL = s3.ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" }))
        {
            await client.InitiateMultipartUploadAsync(_bucket, S3Store.FullKey(fileName));
        }

        Assert.Single(await s3.IncompleteUploadsAsync(_bucket));

        Assert.Equal(1, await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None));

        await using var check = await _app.DbAsync();
        var record = await check.Backups.SingleAsync(b => b.FileName == fileName);
        Assert.Equal(BackupStatus.Failed, record.Status);
        var error = (await check.Set<RunRecord>().SingleAsync(r => r.Id == record.Id)).Error;
        Assert.Contains("stopped before it finished", error);
        Assert.Contains("No complete copy of it was found in storage", error);
        Assert.Contains("No complete copy of it was found in storage", record.Error);
        Assert.DoesNotContain("No file was kept", error);
        Assert.False(File.Exists(partial));
        Assert.Empty(await s3.IncompleteUploadsAsync(_bucket));
    }
}
