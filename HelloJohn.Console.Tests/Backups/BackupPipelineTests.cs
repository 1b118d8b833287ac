using System.Security.Cryptography;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace HelloJohn.Console.Tests.Backups;

[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class BackupPipelineTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    private readonly RecordingFactory _app = new(postgres);

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    private async Task<Guid> DefaultTargetAsync() => (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

    private async Task<BackupRecord> RecordAsync(Guid id)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Backups.Include(b => b.TableCounts).Include(b => b.Locations).SingleAsync(b => b.Id == id);
    }

    [Fact]
    public async Task RunNow_OfDemoDatabase_FileMatchesManifestAndSourceCounts()
    {
        var backups = _app.Service<BackupService>();
        var id = await backups.RunNowAsync(Operator, await DefaultTargetAsync(), BackupTrigger.Manual, CancellationToken.None);

        var record = await RecordAsync(id);
        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.Matches(@"^hellojohn_\d{8}_\d{6}\.dump\.zst$", record.FileName);
        var file = Path.Combine(_app.BackupDirectory, record.FileName);
        var bytes = await File.ReadAllBytesAsync(file);
        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(file + BackupManifest.Suffix));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), manifest.Sha256);
        Assert.Equal(manifest.Sha256, record.Sha256);
        Assert.Equal(bytes.LongLength, manifest.SizeBytes);
        Assert.Equal(bytes.LongLength, record.SizeBytes);
        Assert.Equal(BackupCompression.Default.ToString(), manifest.Compression);
        Assert.StartsWith("pg_dump (PostgreSQL)", manifest.PgDumpVersion);
        Assert.Equal("hj_schema_migrations:20240610000000", manifest.SchemaVersion);
        Assert.Single(record.Locations);

        var list = await _app.RunToolAsync("pg_restore", "--list", await ArchiveOfAsync(file));
        Assert.True(list.Succeeded, list.StandardError);
        Assert.Contains("TABLE DATA public hj_user", list.StandardOutputText);

        // Every table, discovered from the catalog, with HelloJohn's documented checks first.
        Assert.Equal(["hj_user", "hj_session"], manifest.Tables.Take(2).Select(t => t.Table));
        Assert.Equal(7, manifest.Tables.Count);
        foreach (var t in manifest.Tables)
        {
            Assert.Equal(await postgres.CountAsync(postgres.Demo, t.Table), t.Rows);
        }

        Assert.Equal(PostgresClusterFixture.DemoUsers, manifest.Tables.Single(t => t.Table == "hj_user").Rows);
        Assert.Equal(PostgresClusterFixture.DemoUsers * 3, manifest.Tables.Single(t => t.Table == "hj_session").Rows);
        Assert.Equal(manifest.Tables.Sum(t => t.Rows), record.TotalRows);
    }

    [Fact]
    public async Task RunNow_WhileRowsAreInserted_ManifestCountsEqualTheRestoredDump()
    {
        var source = await postgres.CreateDemoDatabaseAsync(users: 3000);
        var targetId = await _app.Service<TargetService>().AddStoredAsync("busy", source.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var inserted = 0;
        var writer = Task.Run(async () =>
        {
            await using var conn = new NpgsqlConnection(source.ConnectionString);
            await conn.OpenAsync();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await using var cmd = new NpgsqlCommand(
                    "WITH u AS (INSERT INTO hj_user (id, email, created_at, updated_at) VALUES (gen_random_uuid(), $1, now(), now()) RETURNING id) " +
                    "INSERT INTO hj_session (id, user_id, token_hash, created_at, expires_at) SELECT gen_random_uuid(), id, 'x', now(), now() FROM u", conn)
                { Parameters = { new() { Value = $"concurrent{i}@example.test" } } };
                await cmd.ExecuteNonQueryAsync();
                inserted++;
            }
        });
        while (inserted < 20 && !writer.IsCompleted)
        {
            await Task.Delay(20);
        }

        Assert.False(writer.IsFaulted, writer.Exception?.ToString());
        var id = await _app.Service<BackupService>().RunNowAsync(Operator, targetId, BackupTrigger.Manual, CancellationToken.None);
        var afterBackup = inserted;
        await Task.Delay(200);
        await stop.CancelAsync();
        await writer;
        Assert.True(inserted > afterBackup || inserted > 20, "rows kept arriving during the backup");

        var record = await RecordAsync(id);
        var restored = await postgres.CreateDatabaseAsync("restored");
        var restore = await postgres.Runner.RunAsync(new PgToolInvocation("pg_restore", ["--no-owner", "--dbname", restored.Database!, await ArchiveOfAsync(Path.Combine(_app.BackupDirectory, record.FileName))]) { Connection = restored });
        Assert.True(restore.Succeeded, restore.StandardError);
        foreach (var count in record.TableCounts)
        {
            Assert.Equal(count.Rows, await postgres.CountAsync(restored, count.Table));
        }

        // The source kept growing after the snapshot, so the counts are the snapshot's, not "now".
        Assert.True(await postgres.CountAsync(source, "hj_user") > record.TableCounts.Single(c => c.Table == "hj_user").Rows);
    }

    public static TheoryData<string, string> BadTargets => new()
    {
        { "wrong password", "Could not sign in" },
        { "unreachable host", "Could not reach" },
        { "missing database", "does not exist" },
    };

    [Theory]
    [MemberData(nameof(BadTargets))]
    public async Task RunNow_BadTarget_FailsClearlyAndKeepsNothing(string problem, string expected)
    {
        var good = postgres.Demo;
        var bad = new NpgsqlConnectionStringBuilder(good.ConnectionString) { Timeout = 3 };
        switch (problem)
        {
            case "wrong password":
                bad.Password = "not-the-password";
                break;
            case "unreachable host":
                bad.Port = LocalPostgresCluster.FreeLoopbackPort();
                break;
            default:
                bad.Database = "no_such_database";
                break;
        }

        var targetId = await _app.Service<TargetService>().AddStoredAsync(problem.Replace(' ', '-'), bad.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<BackupFailedException>(() => _app.Service<BackupService>().RunNowAsync(Operator, targetId, BackupTrigger.Manual, CancellationToken.None));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("Nothing was", ex.Message);

        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var record = await db.Backups.SingleAsync(b => b.TargetId == targetId);
        Assert.Equal(BackupStatus.Failed, record.Status);
        Assert.Equal(ex.Message, record.Error);
        Assert.False(await db.Backups.AnyAsync(b => b.TargetId == targetId && b.Status == BackupStatus.Succeeded));
        Assert.Empty(Directory.Exists(_app.BackupDirectory) ? Directory.GetFiles(_app.BackupDirectory, record.FileName + "*") : []);
        Assert.DoesNotContain(bad.Password!, ex.Message);
    }

    [Fact]
    public async Task RunNow_ThePasswordIsNeverOnACommandLineNorInTheLogs()
    {
        var id = await _app.Service<BackupService>().RunNowAsync(Operator, await DefaultTargetAsync(), BackupTrigger.Manual, CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, (await RecordAsync(id)).Status);

        var dumps = _app.Runner.Invocations.Where(i => i.Tool == "pg_dump" && i.Arguments.Count > 1).ToList();
        Assert.NotEmpty(dumps);
        foreach (var invocation in dumps)
        {
            Assert.DoesNotContain(invocation.Arguments, a => a.Contains(PostgresClusterFixture.DemoPassword, StringComparison.Ordinal));
            Assert.Null(invocation.Environment);
        }

        Assert.DoesNotContain(PostgresClusterFixture.DemoPassword, _app.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunNow_StorageFolderNotWritable_FailsClearlyAndKeepsNothing()
    {
        await using var app = new RecordingFactory(postgres);
        app.Settings["Storage:Local:Directory"] = "/dev/null/backups";
        await app.InitializeAsync();
        var targetId = (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

        var ex = await Assert.ThrowsAsync<BackupFailedException>(() => app.Service<BackupService>().RunNowAsync(Operator, targetId, BackupTrigger.Manual, CancellationToken.None));

        Assert.Contains("could not be written to storage", ex.Message);
        await using var db = await app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.Equal(BackupStatus.Failed, (await db.Backups.SingleAsync()).Status);
        Assert.DoesNotContain(app.Runner.Invocations, i => i.Tool == "pg_dump" && i.Arguments.Count > 1);
    }

    [Fact]
    public async Task Cancel_MidBackup_RecordsCancelledAndLeavesNoPartialFile()
    {
        var source = await postgres.CreateDemoDatabaseAsync(users: 300);
        var targetId = await _app.Service<TargetService>().AddStoredAsync("locked", source.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        var backups = _app.Service<BackupService>();

        // An exclusive lock makes pg_dump and the counts wait, so the backup is certainly mid-way when cancelled.
        await using var locker = new NpgsqlConnection(source.ConnectionString);
        await locker.OpenAsync();
        await using var tx = await locker.BeginTransactionAsync();
        await using (var lockCmd = new NpgsqlCommand("LOCK TABLE hj_session IN ACCESS EXCLUSIVE MODE", locker, tx))
        {
            await lockCmd.ExecuteNonQueryAsync();
        }

        var id = await backups.RequestAsync(Operator, targetId, BackupTrigger.Manual, CancellationToken.None);
        await WaitForAsync(async () => (await RecordAsync(id)).Status == BackupStatus.Running);
        await WaitForAsync(() => Task.FromResult(Directory.Exists(_app.BackupDirectory) && Directory.GetFiles(_app.BackupDirectory, "*.partial").Length > 0));

        await backups.CancelAsync(Operator, id, CancellationToken.None);
        await WaitForAsync(async () => (await RecordAsync(id)).Status is BackupStatus.Cancelled or BackupStatus.Failed);
        await tx.RollbackAsync();

        var record = await RecordAsync(id);
        Assert.Equal(BackupStatus.Cancelled, record.Status);
        Assert.Contains("cancelled", record.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(Directory.GetFiles(_app.BackupDirectory, record.FileName + "*"));
    }

    [Fact]
    public async Task FailAbandonedRuns_RunningRecordOfDeadProcess_IsFailedAndItsPartialFileRemoved()
    {
        var targetId = await DefaultTargetAsync();
        var fileName = BackupNaming.FileNameFor(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var deadInstance = await _app.AddDeadInstanceAsync();
        await using (var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            var run = RunFixtures.Run(RunKind.Backup, targetId, owner: deadInstance);
            db.Add(run);
            db.Backups.Add(new BackupRecord
            {
                Id = run.Id,
                TargetId = targetId,
                FileName = fileName,
                Status = BackupStatus.Running,
                CreatedAt = DateTimeOffset.UtcNow,
                StartedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        Directory.CreateDirectory(_app.BackupDirectory);
        var partial = Path.Combine(_app.BackupDirectory, fileName + ".partial");
        await File.WriteAllTextAsync(partial, "half a dump");

        Assert.Equal(1, await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None));

        await using var check = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var record = await check.Backups.SingleAsync(b => b.FileName == fileName);
        Assert.Equal(BackupStatus.Failed, record.Status);
        Assert.Contains("stopped before it finished", record.Error);
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task Tidy_WhileABackupWritesItsManifest_LeavesEveryFileOfTheRunningBackupAndRemovesOnlyLeftovers()
    {
        var targetId = await DefaultTargetAsync();
        var running = BackupNaming.FileNameFor(new DateTimeOffset(2020, 2, 3, 4, 5, 6, TimeSpan.Zero));
        var gone = BackupNaming.FileNameFor(new DateTimeOffset(2020, 2, 3, 4, 5, 7, TimeSpan.Zero));
        await using (var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            var run = RunFixtures.Run(RunKind.Backup, targetId);
            db.Add(run);
            db.Backups.Add(new BackupRecord { Id = run.Id, TargetId = targetId, FileName = running, Status = BackupStatus.Queued, CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        Directory.CreateDirectory(_app.BackupDirectory);
        string Partial(string key) => Path.Combine(_app.BackupDirectory, key + LocalDiskBackupStoreSuffix);
        // The queued backup's dump and manifest (a manifest is written as NAME.manifest.json.partial, then renamed), and
        // what a backup that is no longer running left behind.
        string[] owned = [Partial(running), Partial(running + BackupManifest.Suffix)];
        string[] leftovers = [Partial(gone), Partial(gone + BackupManifest.Suffix)];
        foreach (var file in owned.Concat(leftovers))
        {
            await File.WriteAllTextAsync(file, "being written");
        }

        var kind = _app.Service<IEnumerable<IRunKind>>().OfType<BackupRunKind>().Single();
        await kind.TidyAsync(CancellationToken.None);

        Assert.All(owned, f => Assert.True(File.Exists(f), $"{Path.GetFileName(f)} was removed while its backup was still queued."));
        Assert.All(leftovers, f => Assert.False(File.Exists(f), $"{Path.GetFileName(f)} was left behind."));
    }

    private const string LocalDiskBackupStoreSuffix = HelloJohn.Console.Core.Storage.LocalDiskBackupStore.PartialSuffix;

    [Fact]
    public async Task Request_ManyAtOnce_EachGetsAFileOfItsOwn()
    {
        var backups = _app.Service<BackupService>();
        var target = await DefaultTargetAsync();

        // Six people (or consoles) press Back up now in the same second.
        var ids = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => backups.RequestAsync(Operator, target, BackupTrigger.Manual, CancellationToken.None))));

        var names = new List<string>();
        foreach (var id in ids)
        {
            names.Add((await RecordAsync(id)).FileName);
        }

        Assert.Equal(6, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, n => Assert.Matches(@"^hellojohn_\d{8}_\d{6}(_\d+)?\.dump\.zst$", n));
        foreach (var id in ids)
        {
            try
            {
                await backups.CancelAsync(Operator, id, CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already finished.
            }
        }

        for (var deadline = DateTime.UtcNow.AddMinutes(2); DateTime.UtcNow < deadline;)
        {
            await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
            if (!await db.Backups.AnyAsync(b => ids.Contains(b.Id) && (b.Status == BackupStatus.Queued || b.Status == BackupStatus.Running)))
            {
                break;
            }

            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Request_ByViewer_IsRefusedAndAudited()
    {
        var viewer = new Actor(TestAccounts.ViewerId, "viewer@example.test", [ConsoleRoles.Viewer]);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => _app.Service<BackupService>().RequestAsync(viewer, null, BackupTrigger.Manual, CancellationToken.None));

        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Backups.AnyAsync());
        Assert.Equal(1, await db.AuditEvents.CountAsync(e => e.Actor == viewer.Name && e.Outcome == Core.Audit.AuditOutcome.Denied));
    }

    /// <summary>The custom-format archive pg_restore reads: the default zstd compression wraps it.</summary>
    private async Task<string> ArchiveOfAsync(string backupFile)
    {
        Directory.CreateDirectory(_app.DataDirectory);
        var archive = Path.Combine(_app.DataDirectory, $"archive-{Guid.NewGuid():N}.dump");
        await BackupCompression.DecompressAsync(backupFile, archive, CancellationToken.None);
        return archive;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not come true within 60 s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The console with its pg tools runner wrapped, so the test sees every invocation.</summary>
    private sealed class RecordingFactory : ConsoleAppFactory
    {
        public RecordingFactory(PostgresClusterFixture postgres) : base(postgres)
        {
            // The test sweeps itself; the console's own sweep is kept out of its way.
            Settings["Runs:SweepInterval"] = "00:10:00";
        }

        public RecordingPgToolRunner Runner => (RecordingPgToolRunner)Services.GetRequiredService<IPgToolRunner>();

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
            {
                services.RemoveAll<IPgToolRunner>();
                services.AddSingleton<IPgToolRunner>(sp => new RecordingPgToolRunner(ActivatorUtilities.CreateInstance<PgToolRunner>(sp)));
            });
        }
    }
}
