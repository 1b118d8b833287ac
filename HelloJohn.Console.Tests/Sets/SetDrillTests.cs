using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Recovery;
using Npgsql;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestActors;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>The recovery drill of a deployment backed up as sets rehearses the whole set: every database restored into
/// scratch databases, every one's counts compared with its manifest, the RTO measured over the set, and every scratch
/// database dropped.</summary>
[Trait("Capability", "Sets")]
[Collection(PostgresCollection.Name)]
public sealed class SetDrillTests(PostgresClusterFixture postgres) : RecoveryAppTest(postgres)
{
    [Fact]
    public async Task Drill_OfADeploymentWithSets_RestoresAndVerifiesEveryDatabaseAndMeasuresRtoOverTheSet()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 60);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_b", 20);
        var targetId = await App.AddDeploymentAsync(prefix, null, $"{prefix}_tenant_*");
        var set = await App.BackUpSetAsync(targetId);
        Assert.Equal(BackupSetStatus.Succeeded, set.Set.Status);

        var runId = await App.Service<RecoveryService>().StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.Drill, targetId), CancellationToken.None);
        var run = await App.WaitForRunAsync(runId, r => r.Status != RecoveryRunStatus.Active);

        var view = await App.RunAsync(runId);
        Assert.True(run.Status == RecoveryRunStatus.Completed, string.Join('\n', view.Log.Select(l => l.Text)));
        Assert.Contains(view.Log, l => l.Text.Contains("one of a set of 2 databases", StringComparison.Ordinal));
        Assert.Contains(view.Log, l => l.StepKey == "verify" && l.Text.Contains("All 2 databases of the set match their manifests", StringComparison.Ordinal));
        var verified = view.Steps.Single(s => s.Key == "verify").CompletedAt!.Value;
        Assert.Equal(verified - run.StartedAt, run.Rto);
        // The recovery point is the set's oldest snapshot: the deployment as a whole goes back to it.
        Assert.Equal(run.StartedAt - set.Members.Min(m => m.StartedAt), run.Rpo);
        Assert.Empty(await DrillDatabasesAsync());
    }

    private async Task<IReadOnlyList<string>> DrillDatabasesAsync()
    {
        await using var conn = new NpgsqlConnection(Postgres.Cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 'hellojohn\\_drill\\_%'", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
