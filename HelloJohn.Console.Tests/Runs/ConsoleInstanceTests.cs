using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Notifications;
using HelloJohn.Console.Tests.Restores;
using Npgsql;

namespace HelloJohn.Console.Tests.Runs;

/// <summary>A console instance whose session on the console database is cut (a restart of that server, a terminated
/// backend) starts a new life under a new id and goes on running jobs: claims never wait for a lease that will not come.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class ConsoleInstanceTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres);

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task SessionTerminatedTwice_InstanceTakesANewLeaseEachTime_AndABackupRequestedAfterwardsRuns()
    {
        var instance = _app.Service<ConsoleInstance>();
        var first = (await instance.CurrentAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1))).InstanceId;

        var seen = new List<Guid> { first };
        for (var cut = 1; cut <= 2; cut++)
        {
            Assert.Equal(1, await TerminateInstanceSessionAsync());
            var previous = seen[^1];
            await DeliveryWait.UntilAsync(() => instance.Id is { } id && id != previous, $"a new lease after cut {cut}");
            seen.Add(instance.Id!.Value);
        }

        Assert.Equal(3, seen.Distinct().Count());
        var (backupId, _) = await _app.BackUpAsync();
        var backup = (await _app.Service<BackupService>().GetAsync(backupId, CancellationToken.None))!.Backup;
        Assert.Equal(BackupStatus.Succeeded, backup.Status);
    }

    /// <summary>Ends this console's instance session (and only this console's: other test classes share the server).</summary>
    private async Task<int> TerminateInstanceSessionAsync()
    {
        await using var conn = new NpgsqlConnection(postgres.Cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT count(*)::int FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'hellojohn-console-instance') t", conn);
        cmd.Parameters.AddWithValue(_app.ConsoleDatabase.Database!);
        return (int)(await cmd.ExecuteScalarAsync())!;
    }
}
