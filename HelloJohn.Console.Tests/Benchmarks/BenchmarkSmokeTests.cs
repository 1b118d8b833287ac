using HelloJohn.Console.Bench;
using HelloJohn.Console.Bench.Reporting;
using HelloJohn.Console.Tests.Infrastructure;
using Npgsql;

namespace HelloJohn.Console.Tests.Benchmarks;

/// <summary>Runs the whole benchmark on a tiny database so it does not rot. Figures are checked for plausibility
/// only: speed is never asserted in tests.</summary>
[Trait("Capability", "Benchmarks")]
[Collection(PostgresCollection.Name)]
public sealed class BenchmarkSmokeTests(PostgresClusterFixture postgres)
{
    private static readonly BenchmarkSettings Tiny = new()
    {
        Users = 200,
        Reps = 1,
        CatalogBackups = 500,
        CatalogVerifications = 50,
        UiReps = 2,
    };

    [Fact]
    public async Task Run_TinyDatabase_TableHasEveryCaseWithPlausibleFigures()
    {
        var log = new StringWriter();
        var report = await new Benchmark(Tiny, postgres.Cluster, postgres.Runner, log).RunAsync();

        Assert.Equal(["reference", "quarter"], report.Databases.Select(d => d.Name));
        Assert.Equal(200, report.Databases[0].Users);
        Assert.Equal(600, report.Databases[0].Sessions);
        Assert.Equal(50, report.Databases[1].Users);
        Assert.True(report.Machine.Cores >= 1);
        Assert.StartsWith("PostgreSQL ", report.Machine.ServerVersion);

        var backup = report.Cases.Where(c => c.Group == BenchmarkGroups.Backup).ToList();
        Assert.Equal(
            [
                "pg_dump -Fc -Z9 --file (documented recipe)", "pg_dump -Fc -Z6 --file", "pg_dump -Fc -Z1 --file", "pg_dump -Fc -Z0 --file",
                "pg_dump -Fc -Z0 | zstd -1 (in process)", "pg_dump -Fc -Z0 | zstd -3 (in process)", $"console backup ({report.ConsoleDefault}, via BackupService)",
            ],
            backup.Select(c => c.Case));
        foreach (var c in backup)
        {
            Assert.Equal(1, c.Runs);
            Assert.InRange(c.WallMedian, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(5));
            Assert.True(c.CpuMedian > TimeSpan.Zero, $"{c.Case}: no CPU time was recorded");
            Assert.InRange(c.SizeMedian ?? 0, 10_000, 50_000_000);
            // pg_dump's peak is sampled every 25 ms; on this tiny database one run can end between two samples.
            if (c.ToolPeakRss is { } rss)
            {
                Assert.InRange(rss, 1_000_000, 1_000_000_000);
            }
        }

        Assert.Contains(backup, c => c.ToolPeakRss is not null);

        // A dump that is not compressed is the largest; gzip -9 is no larger than gzip -1.
        Assert.True(report.Find(BenchmarkGroups.Backup, "pg_dump -Fc -Z0 --file").SizeMedian > report.Find(BenchmarkGroups.Backup, "pg_dump -Fc -Z1").SizeMedian);
        Assert.True(report.Find(BenchmarkGroups.Backup, "pg_dump -Fc -Z9").SizeMedian <= report.Find(BenchmarkGroups.Backup, "pg_dump -Fc -Z1").SizeMedian);
        Assert.InRange(report.Find(BenchmarkGroups.Backup, "console backup").ConsolePeakRss ?? 0, 10_000_000, 8_000_000_000);

        var memory = report.Cases.Where(c => c.Group == BenchmarkGroups.Memory).ToList();
        Assert.Equal(["console backup, 200 users", "console backup, 50 users (¼)"], memory.Select(c => c.Case));
        Assert.All(memory, c => Assert.True(c.ConsolePeakRss > 0));
        Assert.True(memory[0].SizeMedian > memory[1].SizeMedian);

        var verification = report.Cases.Where(c => c.Group == BenchmarkGroups.Verification).ToList();
        Assert.Equal(3, verification.Count);
        Assert.StartsWith("documented verify script (", verification[0].Case);
        Assert.StartsWith("console verification", verification[2].Case);
        Assert.All(verification, c => Assert.InRange(c.WallMedian, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(5)));
        Assert.All(verification, c => Assert.True(c.ToolPeakRss > 0, $"{c.Case}: pg_restore's memory was not seen"));

        var ui = report.Cases.Where(c => c.Group == BenchmarkGroups.Ui).ToList();
        Assert.Equal(["Backups page, first page (BackupService.QueryAsync + verification badges)", "Dashboard (DashboardService.GetAsync)"], ui.Select(c => c.Case));
        Assert.All(ui, c => Assert.Equal(2, c.Runs));

        var table = report.Render();
        foreach (var c in report.Cases)
        {
            Assert.Contains($"| {c.Group} | {c.Case} |", table);
        }

        Assert.Single(table.Split('\n'), l => l.StartsWith("| Group |", StringComparison.Ordinal));
        await AssertNothingLeftAsync();
    }

    private async Task AssertNothingLeftAsync()
    {
        await using var conn = new NpgsqlConnection(postgres.Cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\\_%' OR datname LIKE 'hellojohn\\_verify\\_%'", conn);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }
}
