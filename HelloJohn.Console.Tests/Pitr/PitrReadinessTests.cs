using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>Readiness read from a real server in the states people get wrong: wal_level = minimal, a role without
/// REPLICATION, an archive_command that fails. One cluster, restarted with other settings.</summary>
[Trait("Capability", "Pitr")]
public sealed class PitrReadinessTests : IAsyncLifetime
{
    private readonly PgToolRunner _runner = new(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"hjc-test-ready-{Guid.NewGuid():N}"[..26]);
    private LocalPostgresCluster? _cluster;

    public async Task InitializeAsync() => _cluster = await LocalPostgresCluster.StartAsync(_root, _runner, deleteOnDispose: true);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    private async Task RestartAsync(Dictionary<string, string> settings)
    {
        await _cluster!.StopAsync();
        _cluster = await LocalPostgresCluster.StartAsync(_root, _runner, settings, deleteOnDispose: true);
    }

    private async Task<PitrReadinessReport> ReadinessAsync(NpgsqlConnectionStringBuilder? connection = null)
    {
        var facts = await PitrReadiness.GatherAsync(connection ?? _cluster!.ConnectionFor("postgres"), "hellojohn_console_test", CancellationToken.None);
        return PitrReadiness.Evaluate(facts, 1L << 30, DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Readiness_ForMinimalWalLevel_RoleWithoutReplication_AndFailingArchiver()
    {
        var healthy = await ReadinessAsync();
        Assert.All(healthy.Checks.Where(c => c.Name is "wal_level" or "replication permission" or "archive_command"), c => Assert.Equal(ReadinessLevel.Green, c.Level));

        // A role that may log in but not replicate.
        await using (var conn = new NpgsqlConnection(_cluster!.ConnectionFor("postgres").ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE ROLE app_only LOGIN PASSWORD 'app-Pa55word'", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        var noReplication = await ReadinessAsync(_cluster.ConnectionFor("postgres", "app_only", "app-Pa55word"));
        var role = Assert.Single(noReplication.Checks, c => c.Name == "replication permission");
        Assert.Equal(ReadinessLevel.Red, role.Level);
        Assert.Contains("ALTER ROLE \"app_only\" WITH REPLICATION;", role.Fix);

        await RestartAsync(new() { ["wal_level"] = "minimal", ["max_wal_senders"] = "0" });
        var minimal = await ReadinessAsync();
        var walLevel = Assert.Single(minimal.Checks, c => c.Name == "wal_level");
        Assert.Equal(ReadinessLevel.Red, walLevel.Level);
        Assert.Contains("ALTER SYSTEM SET wal_level = 'replica';", walLevel.Fix);
        Assert.Equal(ReadinessLevel.Red, minimal.Level);

        await RestartAsync(new() { ["archive_mode"] = "on", ["archive_command"] = "'false'" });
        await using (var conn = new NpgsqlConnection(_cluster.ConnectionFor("postgres").ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE TABLE filler (id int); INSERT INTO filler VALUES (1); SELECT pg_switch_wal()", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        PitrReadinessReport? failing = null;
        await PitrFixture.WaitForAsync("the archiver to report a failure", async () =>
        {
            failing = await ReadinessAsync();
            return failing.Checks.Single(c => c.Name == "archive_command").Level == ReadinessLevel.Red;
        });
        Assert.Contains("archive_command is failing", failing!.Checks.Single(c => c.Name == "archive_command").Message);
    }

    [Fact]
    public void Evaluate_SlotRetainingMoreThanTheThreshold_IsAnAlarm_AndNoLimitIsAmber()
    {
        var facts = new ReadinessFacts
        {
            Role = "replicator", WalLevel = "replica", MaxWalSenders = 10, MaxReplicationSlots = 10, RoleCanReplicate = true,
            SlotName = "s", SlotExists = true, SlotActive = false, SlotWalStatus = "extended", SlotRetainedBytes = 5L << 30,
        };
        var report = PitrReadiness.Evaluate(facts, 1L << 30, DateTimeOffset.UtcNow);
        Assert.True(report.SlotAlarm);
        Assert.Contains("5 GiB", report.Checks.Single(c => c.Name == "replication slot").Message);
        Assert.Equal(ReadinessLevel.Amber, report.Checks.Single(c => c.Name == "max_slot_wal_keep_size").Level);

        var fine = PitrReadiness.Evaluate(facts with { SlotRetainedBytes = 1024, SlotActive = true, SlotWalStatus = "reserved", MaxSlotWalKeepBytes = 10L << 30 }, 1L << 30, DateTimeOffset.UtcNow);
        Assert.False(fine.SlotAlarm);
        Assert.Equal(ReadinessLevel.Green, fine.Level);
    }
}
