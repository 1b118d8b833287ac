using System.Security.Cryptography;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Restores;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>Faults injected into a real s3rver process under a running backup to local disk and S3: frozen (SIGSTOP) and
/// killed (connections refused). Each run must end in a true state within its timeouts, keep the local copy, leave no
/// unfinished upload behind, and the next backup must reach both stores.</summary>
[Trait("Capability", "Storage")]
[Collection(PostgresCollection.Name)]
public sealed class S3FaultTests(PostgresClusterFixture postgres, S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);
    private static Task<NpgsqlConnectionStringBuilder>? s_largeTarget;
    private readonly ConsoleAppFactory _app = new(postgres);
    private readonly string _bucket = "faults" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync()
    {
        await s3.EnsureBucketAsync(_bucket);
        _app.Target = await LargeTargetAsync(postgres);
        _app.Settings["Storage:S3:Bucket"] = _bucket;
        _app.Settings["Storage:S3:ServiceUrl"] = s3.ServiceUrl;
        _app.Settings["Storage:S3:Region"] = "us-east-1";
        _app.Settings["Storage:S3:AccessKeyId"] = S3rverFixture.AccessKey;
        _app.Settings["Storage:S3:SecretAccessKey"] = S3rverFixture.SecretKey;
        _app.Settings["Storage:S3:PartSizeMiB"] = "5";
        // Short enough for a quick test, long enough for s3rver to take a 5 MiB part on a busy machine.
        _app.Settings["Storage:S3:TimeoutSeconds"] = "4";
        _app.Settings["Storage:S3:PartTimeoutSeconds"] = "8";
        await _app.InitializeAsync();
    }

    public Task DisposeAsync() => _app.DisposeAsync();

    /// <summary>A HelloJohn database whose dump spans several 5 MiB parts even compressed (random hex does not shrink
    /// much), so the fault lands in the middle of the upload.</summary>
    internal static Task<NpgsqlConnectionStringBuilder> LargeTargetAsync(PostgresClusterFixture postgres) =>
        s_largeTarget ??= CreateLargeTargetAsync(postgres);

    private static async Task<NpgsqlConnectionStringBuilder> CreateLargeTargetAsync(PostgresClusterFixture postgres)
    {
        var db = await postgres.CreateDemoDatabaseAsync(users: 200);
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "CREATE TABLE audit_blob AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) AS payload FROM generate_series(1, 250000) g", conn);
        await cmd.ExecuteNonQueryAsync();
        return db;
    }

    [Fact]
    public async Task Backup_S3FrozenMidUpload_S3FailsAloneWithItsTimeoutTheLocalCopyIsKeptAndNothingIsLeft()
    {
        var flowing = DumpFlowingAsync();
        var backup = StartBackupAsync();
        await flowing.WaitAsync(HangGuard);
        s3.Pause();
        Guid id;
        try
        {
            id = await backup.WaitAsync(HangGuard);
        }
        finally
        {
            s3.Resume();
        }

        var record = await RecordAsync(id);
        Assert.True(record.Status == BackupStatus.PartiallyStored, $"The backup is {record.Status}: {record.Error}");
        Assert.Equal(["local"], record.Locations.Select(l => l.Store));
        // Frozen while a part was on its way (or, on a slow machine, while the upload was being finished).
        Assert.Matches(@"s3: .*(was not taken by store 's3' within 8 s \(Storage__S3__PartTimeoutSeconds\)|no answer within 4 s \(Storage__S3__TimeoutSeconds\))", record.Error);
        await AssertLocalCopyIsCompleteAsync(record);

        await AssertNextBackupReachesBothAndNothingIsLeftAsync();
    }

    [Fact]
    public async Task Backup_S3KilledMidUpload_LocalCopyKeptAndTheUnfinishedUploadIsAbortedOnceS3IsBack()
    {
        var flowing = DumpFlowingAsync();
        var backup = StartBackupAsync();
        await flowing.WaitAsync(HangGuard);
        s3.Kill();
        var id = await backup.WaitAsync(HangGuard);
        await s3.StartAsync();

        var record = await RecordAsync(id);
        Assert.Equal(BackupStatus.PartiallyStored, record.Status);
        Assert.Contains("s3:", record.Error);
        await AssertLocalCopyIsCompleteAsync(record);
        // The upload could not be aborted while the server was down: its parts are still on the server.
        Assert.True(s3.HasStartedUpload(_bucket));

        await AssertNextBackupReachesBothAndNothingIsLeftAsync();
    }

    /// <summary>Completes once the running backup reports its first bytes: its uploads have started.</summary>
    [Fact]
    public async Task Backup_DumpHeldUpByAFrozenStore_HoldsNoSnapshotTransactionWhilePgDumpRunsAndItsCountsMatchTheRestore()
    {
        // Large enough that pg_dump is still writing when the frozen store's buffers are full.
        var source = await postgres.CreateDemoDatabaseAsync(users: 50);
        await RestoreTestSupport.ExecuteAsync(source,
            "CREATE TABLE event_log AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) AS payload FROM generate_series(1, 900000) g");
        var targetId = await _app.Service<TargetService>().AddStoredAsync("held-up", source.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        var flowing = DumpFlowingAsync();
        var backup = Task.Run(() => _app.Service<BackupService>().RunNowAsync(Operator, targetId, BackupTrigger.Manual, CancellationToken.None));
        await flowing.WaitAsync(HangGuard);
        s3.Pause();
        try
        {
            // pg_dump now goes only as fast as the frozen store takes its output: while it still runs, the console's
            // snapshot connection must hold no transaction open on the target.
            await WaitUntilAsync(async () =>
            {
                var (dumping, snapshotOpen) = await TargetActivityAsync(source);
                Assert.True(dumping || !snapshotOpen, "pg_dump finished while the console still held its snapshot transaction open on the target.");
                Assert.True(dumping, "pg_dump finished before the test saw the snapshot transaction end.");
                return !snapshotOpen;
            }, "the snapshot transaction to end while pg_dump runs");
        }
        finally
        {
            s3.Resume();
        }

        var record = await RecordAsync(await backup.WaitAsync(HangGuard));
        Assert.True(record.Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored, $"The backup is {record.Status}: {record.Error}");
        var name = "held_up_" + Guid.NewGuid().ToString("N")[..8];
        var restored = await _app.Service<Core.Restores.RestoreService>().RestoreAsync(Operator,
            new Core.Restores.RestoreRequest(record.Id, Core.Restores.RestoreMode.NewDatabase, name), CancellationToken.None);
        try
        {
            Assert.True(restored.Run.CountsMatch == true, string.Join("; ", restored.Tables.Where(t => !t.Matches).Select(t => $"{t.Table}: {t.Expected} vs {t.Actual}")));
            Assert.Equal(900000L, await RestoreTestSupport.ScalarAsync<long>(new NpgsqlConnectionStringBuilder(source.ConnectionString) { Database = name }, "SELECT count(*) FROM event_log"));
        }
        finally
        {
            await postgres.DropDatabaseAsync(name);
        }
    }

    /// <summary>Whether pg_dump is connected to the database, and whether the console's snapshot connection is inside a transaction.</summary>
    private static async Task<(bool Dumping, bool SnapshotOpen)> TargetActivityAsync(NpgsqlConnectionStringBuilder target)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE application_name = 'hellojohn-console') > 0,
                   count(*) FILTER (WHERE application_name = $1 AND xact_start IS NOT NULL) > 0
            FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            """, conn) { Parameters = { new() { Value = BackupPipeline.SnapshotApplicationName } } };
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetBoolean(0), reader.GetBoolean(1));
    }

    private Task DumpFlowingAsync()
    {
        var notifier = _app.Service<Core.Runs.RunProgressNotifier>();
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(Core.Runs.RunProgress p)
        {
            if (p is { Kind: Core.Runs.RunKind.Backup, Status: Core.Runs.RunStatus.Running, Done: > 0 })
            {
                notifier.Changed -= OnChanged;
                flowing.TrySetResult();
            }
        }

        notifier.Changed += OnChanged;
        return flowing.Task;
    }

    private Task<Guid> StartBackupAsync()
    {
        var service = _app.Service<BackupService>();
        return Task.Run(async () =>
        {
            var target = (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
            return await service.RunNowAsync(Operator, target, BackupTrigger.Manual, CancellationToken.None);
        });
    }

    private async Task AssertNextBackupReachesBothAndNothingIsLeftAsync()
    {
        var next = await RecordAsync(await StartBackupAsync().WaitAsync(HangGuard));
        Assert.True(next.Status == BackupStatus.Succeeded, $"The next backup is {next.Status}: {next.Error}");
        Assert.Equal(["local", "s3"], next.Locations.Select(l => l.Store).Order());

        // The earlier upload is aborted by the sweep that runs when a backup starts or fails.
        await WaitUntilAsync(async () => (await s3.IncompleteUploadsAsync(_bucket)).Count == 0, "no unfinished upload to be left");
        Assert.Empty(Directory.EnumerateFiles(_app.BackupDirectory, "*.partial", SearchOption.AllDirectories));
    }

    private async Task AssertLocalCopyIsCompleteAsync(BackupRecord record)
    {
        var path = Path.Combine(_app.BackupDirectory, record.FileName);
        await using (var file = File.OpenRead(path))
        {
            Assert.Equal(record.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(file)));
        }

        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(path + BackupManifest.Suffix));
        Assert.Equal((record.Sha256, record.SizeBytes), (manifest.Sha256, (long?)manifest.SizeBytes));
        Assert.True(record.SizeBytes > 10 * 1024 * 1024, $"The dump is {record.SizeBytes} bytes; the test needs it to span several parts.");
    }

    private async Task<BackupRecord> RecordAsync(Guid id)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Backups.AsNoTracking().Include(b => b.Locations).SingleAsync(b => b.Id == id);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = new CancellationTokenSource(HangGuard);
        while (!await condition())
        {
            Assert.False(deadline.IsCancellationRequested, $"Gave up waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
