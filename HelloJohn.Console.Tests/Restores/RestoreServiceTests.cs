using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Verification;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Restores;

[Trait("Capability", "Restore")]
[Collection(PostgresCollection.Name)]
public sealed class RestoreServiceTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres);
    private readonly List<string> _created = [];

    public Task InitializeAsync() => _app.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var name in _created)
        {
            await postgres.DropDatabaseAsync(name);
        }

        await _app.DisposeAsync();
    }

    private RestoreService Restores => _app.Service<RestoreService>();

    private string NewName()
    {
        var name = $"hj_restore_{Guid.NewGuid():N}"[..24];
        _created.Add(name);
        return name;
    }

    private static readonly (string Table, string OrderBy)[] DigestTables =
    [
        ("hj_user", "id"),
        ("hj_session", "id"),
        ("hj_organization_member", "organization_id, user_id"),
        ("hj_mfa_factor", "id"),
    ];

    [Fact]
    public async Task Restore_IntoNewDatabase_DataIsIdenticalToTheSource()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();

        var result = await Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None);

        Assert.Equal(RestoreStatus.Succeeded, result.Run.Status);
        Assert.True(result.Run.CountsMatch);
        Assert.Null(result.Run.Error);
        Assert.Equal(7, result.Tables.Count);
        Assert.All(result.Tables, t => Assert.True(t.Matches, t.QualifiedName));
        var restored = postgres.Demo.WithDatabase(name);
        foreach (var (table, orderBy) in DigestTables)
        {
            Assert.Equal(await postgres.CountAsync(postgres.Demo, table), await postgres.CountAsync(restored, table));
            Assert.Equal(await ContentDigestAsync(postgres.Demo, table, orderBy), await ContentDigestAsync(restored, table, orderBy));
        }

        // The durations are the measured parts of the recovery time.
        Assert.NotNull(result.Run.ChecksDuration);
        Assert.NotNull(result.Run.RestoreDuration);
        Assert.NotNull(result.Run.CountDuration);
        Assert.Null(result.Run.SafetyBackupDuration);
        Assert.True(result.Run.Duration >= result.Run.RestoreDuration);
        Assert.Equal(Environment.ProcessorCount, result.Run.Jobs);

        await using var db = await _app.DbAsync();
        var audit = await db.AuditEvents.Where(a => a.Action.StartsWith("restore.")).OrderBy(a => a.Id).ToListAsync();
        Assert.Equal([AuditActions.RestoreRequested, AuditActions.RestoreFinished], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(AuditOutcome.Succeeded, a.Outcome));
    }

    [Fact]
    public async Task Restore_ExistingNameWithoutReplace_IsRefusedAndTheDatabaseKept()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        await ExecuteAsync(postgres.Demo, $"CREATE DATABASE {name}");
        await ExecuteAsync(postgres.Demo.WithDatabase(name), "CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)");

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None));

        Assert.Contains("already exists", e.Message);
        Assert.Contains("Nothing was restored", e.Message);
        Assert.Equal(1L, await postgres.CountAsync(postgres.Demo.WithDatabase(name), "keep_me"));
        await using var db = await _app.DbAsync();
        Assert.Empty(await db.Set<RestoreRun>().ToListAsync());
        Assert.Equal(AuditOutcome.Failed, (await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.RestoreRequested)).Outcome);
    }

    [Fact]
    public async Task Restore_ExistingNameWithReplace_DropsItAndRestores()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        await ExecuteAsync(postgres.Demo, $"CREATE DATABASE {name}");
        await ExecuteAsync(postgres.Demo.WithDatabase(name), "CREATE TABLE old_table (id int)");
        Assert.True((await Restores.CheckDatabaseNameAsync(backupId, name, CancellationToken.None)).Exists);

        var result = await Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name, ReplaceExisting: true), CancellationToken.None);

        Assert.Equal(RestoreStatus.Succeeded, result.Run.Status);
        Assert.True(result.Run.ReplaceExisting);
        Assert.False(await ScalarAsync<bool>(postgres.Demo.WithDatabase(name), "SELECT to_regclass('public.old_table') IS NOT NULL"));
        Assert.Equal(PostgresClusterFixture.DemoUsers, await postgres.CountAsync(postgres.Demo.WithDatabase(name), "hj_user"));
    }

    [Fact]
    public async Task Restore_ReplaceADatabaseAnotherRoleIsConnectedTo_FailsSayingWhoAndKeepsItUntouched()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        await ExecuteAsync(postgres.Demo, $"CREATE DATABASE {name}");
        await ExecuteAsync(postgres.Demo.WithDatabase(name), "CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)");
        // A session of another role (here the cluster's superuser, as an administrator's psql would be), which the
        // console's role may not end: DROP ... WITH (FORCE) is refused and a plain DROP finds the database in use.
        var holder = new NpgsqlConnectionStringBuilder(postgres.Cluster.ConnectionFor(name).ConnectionString) { ApplicationName = "admin-psql", Pooling = false };
        await using var held = new NpgsqlConnection(holder.ConnectionString);
        await held.OpenAsync();

        var e = await Assert.ThrowsAsync<RestoreFailedException>(() =>
            Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name, ReplaceExisting: true), CancellationToken.None));

        Assert.Contains($"{name} could not be dropped to replace it", e.Message);
        Assert.Contains("admin-psql", e.Message);
        Assert.Contains("Nothing was restored", e.Message);
        Assert.Equal(1L, await postgres.CountAsync(postgres.Demo.WithDatabase(name), "keep_me"));
        var run = (await Restores.GetAsync(e.RunId!.Value, CancellationToken.None))!.Run;
        Assert.Equal(RestoreStatus.Failed, run.Status);
        Assert.Contains("could not be dropped", run.Error);
    }

    [Fact]
    public async Task Restore_ReplaceTheConsoleDatabase_IsRefused()
    {
        var (backupId, _) = await _app.BackUpAsync();
        // The console's own database lives on the same server in this setup; "replace" must never drop it.
        var consoleDb = _app.ConsoleDatabase.Database!;

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.NewDatabase, consoleDb, ReplaceExisting: true), CancellationToken.None));

        Assert.Contains("HelloJohn Console catalog", e.Message);
        Assert.Contains(consoleDb, await postgres.DatabasesAsync(consoleDb));
    }

    public static TheoryData<string> InvalidNames =>
    [
        "", "Hellojohn_restore", "1restore", "restore-db", "restore db", "restore;drop", "\"quoted\"", new string('a', 64),
        "postgres", "template0", "template1", "hellojohn_verify_123", "héllo",
    ];

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task Restore_InvalidDatabaseName_IsRefusedBeforeAnythingRuns(string name)
    {
        var (backupId, _) = await _app.BackUpAsync();
        var before = await postgres.DatabasesAsync("");

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None));

        Assert.Contains("Nothing was restored", e.Message);
        Assert.NotNull(DatabaseNames.Problem(name));
        Assert.Equal(before, await postgres.DatabasesAsync(""));
        Assert.NotNull((await Restores.CheckDatabaseNameAsync(backupId, name, CancellationToken.None)).Problem);
    }

    [Fact]
    public async Task Restore_LiveDatabaseNameAsNewDatabase_IsRefused()
    {
        var (backupId, _) = await _app.BackUpAsync();

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.NewDatabase, PostgresClusterFixture.DemoDatabase, ReplaceExisting: true), CancellationToken.None));

        Assert.Contains("live HelloJohn database", e.Message);
        Assert.Equal(PostgresClusterFixture.DemoUsers, await postgres.CountAsync(postgres.Demo, "hj_user"));
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("delete-manifest")]
    public async Task Restore_DamagedBackup_FailsBeforeCreatingTheDatabase(string damage)
    {
        var (backupId, file) = await _app.BackUpAsync();
        var expectedCheck = await VerificationServiceTests.DamageAsync(file, damage);
        var name = NewName();
        var before = await postgres.DatabasesAsync("");

        var e = await Assert.ThrowsAsync<RestoreFailedException>(() =>
            Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None));

        Assert.Contains("Restore stopped before touching any database", e.Message);
        Assert.Contains(expectedCheck.Describe(), e.Message);
        Assert.Equal(before, await postgres.DatabasesAsync(""));
        var run = (await Restores.GetAsync(e.RunId!.Value, CancellationToken.None))!.Run;
        Assert.Equal(RestoreStatus.Failed, run.Status);
        Assert.Equal(expectedCheck.ToString(), run.FailedCheck);
        Assert.Null(run.RestoreDuration);
    }

    [Fact]
    public async Task Restore_CancelledWhileRestoring_DropsTheNewDatabase()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        using var cts = new CancellationTokenSource();
        var existedWhileRestoring = false;
        void OnProgress(RunProgress p)
        {
            if (p.Kind == RunKind.Restore && p.PhaseAs<RestorePhase>() == RestorePhase.Restoring && !cts.IsCancellationRequested)
            {
                existedWhileRestoring = postgres.DatabasesAsync(name).GetAwaiter().GetResult().Contains(name);
                cts.Cancel();
            }
        }

        _app.Service<RunProgressNotifier>().Changed += OnProgress;
        RestoreFailedException e;
        try
        {
            e = await Assert.ThrowsAsync<RestoreFailedException>(() =>
                Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), cts.Token));
        }
        finally
        {
            _app.Service<RunProgressNotifier>().Changed -= OnProgress;
        }

        Assert.True(existedWhileRestoring);
        Assert.Empty(await postgres.DatabasesAsync(name));
        var run = (await Restores.GetAsync(e.RunId!.Value, CancellationToken.None))!.Run;
        Assert.Equal(RestoreStatus.Cancelled, run.Status);
        Assert.Contains("was dropped", run.Error);
    }

    [Fact]
    public async Task Cancel_FromAnotherCallerWhileRestoring_StopsDropsTheNewDatabaseAndAuditsWhoCancelled()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        var cancelled = new TaskCompletionSource();
        void OnProgress(RunProgress p)
        {
            if (p.Kind == RunKind.Restore && p.PhaseAs<RestorePhase>() == RestorePhase.Restoring && !cancelled.Task.IsCompleted)
            {
                // As the Cancel button does: another caller, while the run is in pg_restore.
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await Restores.CancelAsync(Operator, p.RunId, CancellationToken.None);
                        cancelled.TrySetResult();
                    }
                    catch (Exception e)
                    {
                        cancelled.TrySetException(e);
                    }
                });
            }
        }

        _app.Service<RunProgressNotifier>().Changed += OnProgress;
        RestoreFailedException e;
        try
        {
            e = await Assert.ThrowsAsync<RestoreFailedException>(() =>
                Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None));
        }
        finally
        {
            _app.Service<RunProgressNotifier>().Changed -= OnProgress;
        }

        await cancelled.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Empty(await postgres.DatabasesAsync(name));
        var run = (await Restores.GetAsync(e.RunId!.Value, CancellationToken.None))!.Run;
        Assert.Equal(RestoreStatus.Cancelled, run.Status);
        Assert.Contains("was dropped", run.Error);
        await using var db = await _app.DbAsync();
        var audit = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.RestoreCancelled);
        Assert.Equal((Operator.Name, AuditOutcome.Succeeded), (audit.Actor, audit.Outcome));
    }

    [Fact]
    public async Task Cancel_QueuedRestore_EndsItBeforeItStartsAndTheJobThenTouchesNothing()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        var runId = await _app.QueuedRestoreAsync(backupId, RestoreMode.NewDatabase, name);

        await Restores.CancelAsync(Operator, runId, CancellationToken.None);
        await Restores.RunAsync(runId, CancellationToken.None);

        var run = (await Restores.GetAsync(runId, CancellationToken.None))!.Run;
        Assert.Equal(RestoreStatus.Cancelled, run.Status);
        Assert.Null(run.StartedAt);
        Assert.Contains("before it started", run.Error);
        Assert.Empty(await postgres.DatabasesAsync(name));
    }

    [Fact]
    public async Task Cancel_InPlaceAsOperator_FinishedOrUnknownRun_OrAsViewer_IsRefusedAndChangesNothing()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var inPlace = await _app.QueuedRestoreAsync(backupId, RestoreMode.InPlace, postgres.Demo.Database!);
        var newDb = await _app.QueuedRestoreAsync(backupId, RestoreMode.NewDatabase, NewName());

        var operatorRefused = await Assert.ThrowsAsync<PermissionDeniedException>(() => Restores.CancelAsync(Operator, inPlace, CancellationToken.None));
        Assert.Equal(ConsolePermission.RestoreInPlace, operatorRefused.Permission);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Restores.CancelAsync(Viewer, newDb, CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<KeyNotFoundException>(() => Restores.CancelAsync(Operator, Guid.NewGuid(), CancellationToken.None));
        Assert.Contains("Nothing was cancelled", unknown.Message);
        await Restores.CancelAsync(Admin, inPlace, CancellationToken.None);
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => Restores.CancelAsync(Admin, inPlace, CancellationToken.None));
        Assert.Contains("already cancelled", again.Message);

        Assert.Equal(RestoreStatus.Queued, (await Restores.GetAsync(newDb, CancellationToken.None))!.Run.Status);
        await using var db = await _app.DbAsync();
        var records = await db.AuditEvents.Where(a => a.Action == AuditActions.RestoreCancelled).OrderBy(a => a.Id).Select(a => a.Outcome).ToListAsync();
        Assert.Equal([AuditOutcome.Denied, AuditOutcome.Denied, AuditOutcome.Succeeded], records);
    }

    [Fact]
    public async Task Restore_WhileAnotherInstanceHoldsTheLock_IsRefused()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        var targetId = await _app.DefaultTargetAsync();
        // The lock is a session lock in the shared console database: holding it on another connection is exactly what
        // a second console instance running a restore into the same database does.
        await using (var other = await _app.Service<ConsoleLocks>().TryAcquireAsync(ConsoleLocks.ForRestore(targetId, name), CancellationToken.None))
        {
            Assert.NotNull(other);

            var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
                Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None));

            Assert.Contains("Another restore into " + name, e.Message);
            Assert.Empty(await postgres.DatabasesAsync(name));
        }

        // Released: the same request now runs.
        var result = await Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None);
        Assert.Equal(RestoreStatus.Succeeded, result.Run.Status);
    }

    [Fact]
    public async Task Run_QueuedRunWhenAnotherHoldsTheLock_FailsWithoutTouchingAnything()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        var targetId = await _app.DefaultTargetAsync();
        var runId = Guid.NewGuid();
        await using (var db = await _app.DbAsync())
        {
            // Accepted, not started yet: what the job finds when it begins.
            db.Add(RunFixtures.Run(RunKind.Restore, targetId, runId));
            db.Add(new RestoreRun
            {
                Id = runId,
                BackupId = backupId,
                BackupFileName = "x.dump",
                Mode = RestoreMode.NewDatabase,
                DatabaseName = name,
            });
            await db.SaveChangesAsync();
        }

        await using var other = await _app.Service<ConsoleLocks>().TryAcquireAsync(ConsoleLocks.ForRestore(targetId, name), CancellationToken.None);
        Assert.NotNull(other);

        var e = await Assert.ThrowsAsync<RestoreFailedException>(() => Restores.RunAsync(runId, CancellationToken.None));

        Assert.Contains("Another restore into " + name, e.Message);
        Assert.Contains("nothing was touched", e.Message);
        Assert.Empty(await postgres.DatabasesAsync(name));
        Assert.Equal(RestoreStatus.Failed, (await Restores.GetAsync(runId, CancellationToken.None))!.Run.Status);
    }

    [Fact]
    public async Task Restore_SecondRequestWhileFirstIsQueued_IsRefused()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var name = NewName();
        await using (var db = await _app.DbAsync())
        {
            // A request accepted on another instance and not started yet.
            var run = RunFixtures.Run(RunKind.Restore, await _app.DefaultTargetAsync());
            db.Add(run);
            db.Add(new RestoreRun
            {
                Id = run.Id,
                BackupId = backupId,
                BackupFileName = "x.dump",
                Mode = RestoreMode.NewDatabase,
                DatabaseName = name,
            });
            await db.SaveChangesAsync();
        }

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RestoreAsync(Operator, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None));

        Assert.Contains("queued or running", e.Message);
    }
}
