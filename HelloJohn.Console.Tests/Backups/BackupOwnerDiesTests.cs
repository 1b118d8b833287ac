using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Npgsql;

namespace HelloJohn.Console.Tests.Backups;

/// <summary>The console instance running a backup dies (SIGKILL, another host): its pg_dump dies with it, and an
/// instance still alive ends the run as failed with the reason, removes its partial file, and backs up again.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class BackupOwnerDiesTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);

    // This instance runs no jobs (the other one takes the backup) and sweeps every second.
    private readonly ConsoleAppFactory _app = new(postgres)
    {
        Settings = { ["Console:JobWorkers"] = "0", ["Runs:SweepInterval"] = "00:00:01" },
    };

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task OwnerKilledMidDump_PgDumpDiesTheRunEndsFailedWithTheReasonItsPartialIsRemovedAndTheNextBackupWorks()
    {
        var source = await postgres.CreateDemoDatabaseAsync(users: 300);
        var targetId = await _app.Service<TargetService>().AddStoredAsync("crashing", source.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        var backups = _app.Service<BackupService>();
        await using var other = new ExternalConsole(_app, postgres.Demo.ConnectionString);
        await other.StartAsync();

        // An exclusive lock holds pg_dump mid-way, so the other console dies while it dumps.
        await using var locker = new NpgsqlConnection(source.ConnectionString);
        await locker.OpenAsync();
        await using var tx = await locker.BeginTransactionAsync();
        await using (var lockCmd = new NpgsqlCommand("LOCK TABLE hj_session IN ACCESS EXCLUSIVE MODE", locker, tx))
        {
            await lockCmd.ExecuteNonQueryAsync();
        }

        var id = await backups.RequestAsync(Operator, targetId, BackupTrigger.Manual, CancellationToken.None);
        await other.WaitForAsync(async () => (await backups.GetAsync(id, CancellationToken.None))!.Backup.Status == BackupStatus.Running);
        await other.WaitForAsync(() => Task.FromResult(other.ToolProcesses("pg_dump").Count > 0 && Directory.GetFiles(_app.BackupDirectory, "*.partial").Length > 0));
        var dump = Assert.Single(other.ToolProcesses("pg_dump"));

        other.Kill();

        // The tool dies with its console (parent-death signal); the run ends within the bound, said as it happened.
        await other.WaitForAsync(() => Task.FromResult(!ExternalConsole.IsAlive(dump.Pid)));
        await other.WaitForAsync(async () => (await backups.GetAsync(id, CancellationToken.None))!.Backup.Status != BackupStatus.Running);
        var ended = (await backups.GetAsync(id, CancellationToken.None))!.Backup;
        Assert.Equal(BackupStatus.Failed, ended.Status);
        Assert.Contains("stopped before it finished", ended.Error);
        Assert.Contains("unfinished file was removed from local", ended.Error);
        Assert.Equal(RunFailureKind.OwnerLost, (await _app.Service<RunQueries>().GetAsync(id, CancellationToken.None))!.FailureKind);
        Assert.Empty(Directory.GetFiles(_app.BackupDirectory, ended.FileName + "*"));
        await tx.RollbackAsync();

        // Nothing stuck: the target backs up again.
        var next = await backups.RunNowAsync(Operator, targetId, BackupTrigger.Manual, CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, (await backups.GetAsync(next, CancellationToken.None))!.Backup.Status);
    }
}
