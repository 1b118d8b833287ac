using HelloJohn.Console.Bench.Sets;
using HelloJohn.Console.Tests.Infrastructure;

namespace HelloJohn.Console.Tests.Benchmarks;

/// <summary>Runs the sets benchmark on a tiny deployment so it does not rot. Nothing about speed is asserted.</summary>
[Trait("Capability", "Benchmarks")]
[Collection(PostgresCollection.Name)]
public sealed class SetsBenchSmokeTests(PostgresClusterFixture postgres)
{
    [Fact]
    public async Task Run_TinyDeployment_TableHasEveryTenantCountAndThePageFigures()
    {
        var command = SetsBenchCommand.Parse(["--tenants", "1,2", "--tenant-users", "20", "--control-users", "200", "--ui-days", "2", "--ui-reps", "2"]);

        var table = await new SetsBenchmark(command, postgres.Cluster, postgres.Runner, new StringWriter()).RunAsync();

        Assert.Contains("| 1 |", table);
        Assert.Contains("| 2 |", table);
        Assert.Contains("Succeeded", table);
        Assert.Contains("Growth (least squares", table);
        Assert.Contains("Dashboard: deployments overview", table);
        Assert.Contains("Backups: one set expanded (3 members)", table);
        Assert.Contains("Load average:", table);
    }

    [Fact]
    public void Parse_BadTenantCount_IsRefusedNamingTheOption() =>
        Assert.Contains("--tenants", Assert.Throws<HelloJohn.Console.Bench.BenchUsageException>(() => SetsBenchCommand.Parse(["--tenants", "50,x"])).Message);
}
