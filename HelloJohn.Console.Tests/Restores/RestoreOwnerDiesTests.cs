using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Restores;

/// <summary>The console instance running a restore in place dies mid-pg_restore: pg_restore dies with it, its single
/// transaction leaves the live database as it was, and a Cancel pressed afterwards says the truth (the run was no
/// longer running; it is ended as failed, with what state the database is in) instead of pretending to stop it.</summary>
[Trait("Capability", "Restore")]
[Collection(PostgresCollection.Name)]
public sealed class RestoreOwnerDiesTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    // This instance runs no jobs and does not sweep on its own during the test: the Cancel finds the dead run first.
    private readonly ConsoleAppFactory _app = new(postgres)
    {
        Settings = { ["Console:JobWorkers"] = "0", ["Runs:SweepInterval"] = "00:10:00" },
    };

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task OwnerKilledMidRestoreInPlace_PgRestoreDiesCancelSaysItHadStoppedTheDatabaseIsAsItWasAndTheNextRestoreWorks()
    {
        var source = await postgres.CreateDemoDatabaseAsync(users: 300);
        var targetId = await _app.Service<TargetService>().AddStoredAsync("crashing", source.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        var backupId = await _app.Service<BackupService>().RunNowAsync(Admin, targetId, BackupTrigger.Manual, CancellationToken.None);
        var users = await postgres.CountAsync(source, "hj_user");
        await using var other = new ExternalConsole(_app, postgres.Demo.ConnectionString);
        await other.StartAsync();

        // A reader holds hj_session: pg_restore --clean waits to drop it, inside its single transaction.
        await using var reader = new NpgsqlConnection(source.ConnectionString);
        await reader.OpenAsync();
        await using var tx = await reader.BeginTransactionAsync();
        await using (var lockCmd = new NpgsqlCommand("LOCK TABLE hj_session IN ACCESS SHARE MODE", reader, tx))
        {
            await lockCmd.ExecuteNonQueryAsync();
        }

        var restores = _app.Service<RestoreService>();
        var runId = await restores.RequestAsync(Admin, new RestoreRequest(backupId, RestoreMode.InPlace, source.Database!, Confirmation: source.Database), CancellationToken.None);
        await other.WaitForAsync(async () => (await restores.GetAsync(runId, CancellationToken.None))!.Run.Phase == RestorePhase.Restoring
            && other.ToolProcesses("pg_restore").Count > 0);
        var tool = Assert.Single(other.ToolProcesses("pg_restore"));

        other.Kill();
        await other.WaitForAsync(() => Task.FromResult(!ExternalConsole.IsAlive(tool.Pid)));

        var cancel = await restores.CancelAsync(Admin, runId, CancellationToken.None);

        Assert.Equal(RunCancelOutcome.FoundDead, cancel.Outcome);
        Assert.Contains("no longer running", cancel.Message);
        var run = (await restores.GetAsync(runId, CancellationToken.None))!.Run;
        Assert.Equal(RestoreStatus.Failed, run.Status);
        Assert.Contains("stopped before it finished", run.Error);
        Assert.Contains("rolled back", run.Error);
        Assert.Contains("safety backup", run.Error);
        await using (var db = await _app.DbAsync())
        {
            var audit = await db.AuditEvents.Where(a => a.Action == AuditActions.RestoreCancelled).SingleAsync();
            Assert.Contains("no longer running", audit.Detail);
        }

        // The reader lets go; the dead session's transaction is rolled back and the live database is as it was.
        await tx.RollbackAsync();
        Assert.Equal(users, await postgres.CountAsync(source, "hj_user"));

        // Nothing stuck: the backup restores again.
        var name = $"after_crash_{Guid.NewGuid():N}"[..24];
        var next = await restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.NewDatabase, name), CancellationToken.None);
        Assert.Equal(RestoreStatus.Succeeded, next.Run.Status);
        await postgres.DropDatabaseAsync(name);
    }
}
