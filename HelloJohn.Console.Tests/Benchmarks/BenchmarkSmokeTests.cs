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
        // The Release console in its own process and Chromium are the benchmark's, not the test suite's.
        EndToEnd = false,
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
        var workers = Core.Backups.NativeZstd.Workers;
        Assert.Equal(
            [
                "pg_dump -Fc -Z9 --file (documented recipe)", "pg_dump -Fc -Z0 --file",
                $"pg_dump -Fc -Z0 | zstd -1 -T{workers} (stock programs: the bare equivalent)", "pg_dump -Fc -Z0 → native zstd -1 in process, nothing else",
                $"console backup ({report.ConsoleDefault}, via BackupService)",
            ],
            backup.Select(c => c.Case));
        foreach (var c in backup)
        {
            Assert.Equal(1, c.Runs);
            Assert.InRange(c.WallMedian, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(5));
            Assert.True(c.CpuMedian > TimeSpan.Zero, $"{c.Case}: no CPU time was recorded");
            Assert.InRange(c.SizeMedian ?? 0, 10_000, 50_000_000);
            Assert.NotNull(c.ServerCpuMedian);
            // pg_dump's peak is sampled every 25 ms; on this tiny database one run can end between two samples.
            if (c.ToolPeakRss is { } rss)
            {
                Assert.InRange(rss, 1_000_000, 1_000_000_000);
            }
        }

        Assert.Contains(backup, c => c.ToolPeakRss is not null);

        // A dump that is not compressed is the largest; the zstd ones are smaller than gzip -9's.
        Assert.True(report.Find(BenchmarkGroups.Backup, "pg_dump -Fc -Z0 --file").SizeMedian > report.Find(BenchmarkGroups.Backup, "pg_dump -Fc -Z9").SizeMedian);
        Assert.True(report.Find(BenchmarkGroups.Backup, "console backup").SizeMedian < report.Find(BenchmarkGroups.Backup, "pg_dump -Fc -Z0 --file").SizeMedian);
        Assert.InRange(report.Find(BenchmarkGroups.Backup, "console backup").ConsolePeakRss ?? 0, 10_000_000, 8_000_000_000);

        var memory = report.Cases.Where(c => c.Group == BenchmarkGroups.Memory).ToList();
        Assert.Equal(["console backup, 200 users", "console backup, 50 users (¼)"], memory.Select(c => c.Case));
        Assert.All(memory, c => Assert.True(c.ConsolePeakRss > 0));
        Assert.True(memory[0].SizeMedian > memory[1].SizeMedian);

        var verification = report.Cases.Where(c => c.Group == BenchmarkGroups.Verification).ToList();
        Assert.Equal(5, verification.Count);
        Assert.StartsWith("documented verify script (", verification[0].Case);
        Assert.StartsWith("console verification (scratch cluster", verification[2].Case);
        Assert.StartsWith("console verification on the target's server", verification[3].Case);
        Assert.All(verification, c => Assert.InRange(c.WallMedian, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(5)));
        Assert.All(verification.Take(4), c => Assert.True(c.ToolPeakRss > 0, $"{c.Case}: pg_restore's memory was not seen"));
        // The scratch cluster spares the production server: it serves nothing while the console verifies there.
        Assert.True(verification[0].ServerCpuMedian > verification[2].ServerCpuMedian);
        Assert.Equal(
            ["accept", "catalog + manifest", "SHA-256 + unpack (one read)", "pg_restore --list", "checks (other)", "create database", "pg_restore", "count + compare", "drop database", "finish (record, audit)"],
            verification[2].PhaseMedians.Select(p => p.Phase));

        var restore = report.Cases.Where(c => c.Group == BenchmarkGroups.Restore).ToList();
        Assert.Equal(4, restore.Count);
        Assert.StartsWith("documented restore (createdb, pg_restore --verbose, no -j)", restore[0].Case);
        Assert.StartsWith("console restore into a new database", restore[3].Case);
        Assert.Contains("pg_restore", restore[3].PhaseMedians.Select(p => p.Phase));

        var drill = report.Cases.Where(c => c.Group == BenchmarkGroups.Drill).ToList();
        Assert.Equal(2, drill.Count);
        Assert.All(drill, c => Assert.InRange(c.WallMedian, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(5)));
        Assert.True(drill[1].WallMedian <= drill[0].WallMedian, "The RTO ends before the drill's clean-up.");
        Assert.DoesNotContain(report.Cases, c => c.Group == BenchmarkGroups.EndToEnd);

        var ui = report.Cases.Where(c => c.Group == BenchmarkGroups.Ui).ToList();
        Assert.Equal(["Backups page, first page (BackupService.QueryAsync + verification badges)", "Dashboard (DashboardService.GetAsync)"], ui.Select(c => c.Case));
        Assert.All(ui, c => Assert.Equal(2, c.Runs));

        var table = report.Render();
        foreach (var c in report.Cases)
        {
            // A pipe in a case's name (the shell pipeline) is escaped, or it would end its cell.
            Assert.Contains($"| {c.Group} | {c.Case.Replace("|", "\\|", StringComparison.Ordinal)} |", table);
        }

        var rows = table.Split('\n').SkipWhile(l => !l.StartsWith("| Group | Case | Runs |", StringComparison.Ordinal)).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.Equal(report.Cases.Count + 2, rows.Count);
        Assert.All(rows, r => Assert.Equal(12, System.Text.RegularExpressions.Regex.Count(r, @"(?<!\\)\|")));

        Assert.Single(table.Split('\n'), l => l.StartsWith("| Group | Case | Runs |", StringComparison.Ordinal));
        Assert.Single(table.Split('\n'), l => l.StartsWith("| Group | Case | Phases |", StringComparison.Ordinal));
        await AssertNothingLeftAsync();
    }

    private async Task AssertNothingLeftAsync()
    {
        await using var conn = new NpgsqlConnection(postgres.Cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\\_%' OR datname LIKE 'hellojohn\\_verify\\_%' OR datname LIKE 'hellojohn\\_drill\\_%'", conn);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }
}
