using System.Globalization;
using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>Restoring a dump into a new database by hand: HelloJohn's documented commands and the README's.</summary>
public static class RestoreCases
{
    /// <summary><c>createdb</c>, then <c>pg_restore --verbose</c> (with <paramref name="jobs"/> when given), as HelloJohn's
    /// documentation restores a dump. The database is dropped afterwards, outside the measured time.</summary>
    public static async Task<RunSample> DocumentedAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder server, ClusterCpu serverCpu, string dumpPath, int? jobs, CancellationToken ct)
    {
        var name = NewName("doc");
        var into = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name };
        await using var sampler = new ChildPeakRssSampler();
        var cpu = serverCpu.Total();
        var clock = RunClock.Start();
        try
        {
            DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("createdb", ["--no-password", name]) { Connection = server }, ct), "createdb");
            List<string> args = ["--verbose", "--no-password", $"--dbname={name}"];
            if (jobs is { } j)
            {
                args.Add($"--jobs={j}");
            }

            args.Add(dumpPath);
            DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("pg_restore", args) { Connection = into }, ct), "pg_restore");
            var (wall, self, children) = clock.Stop();
            return new RunSample(wall, self + children, ToolPeakRssBytes: sampler.PeakOf("pg_restore"), ServerCpu: serverCpu.Total() - cpu);
        }
        finally
        {
            await DropAsync(runner, server, name);
        }
    }

    /// <summary>The README's by-hand restore of a console backup: <c>zstd -d</c>, <c>createdb</c>,
    /// <c>pg_restore --jobs=N --no-owner</c>.</summary>
    public static async Task<RunSample> ReadmeByHandAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder server, ClusterCpu serverCpu, string backupPath, int jobs, string workFolder, CancellationToken ct)
    {
        var name = NewName("readme");
        var archive = Path.Combine(workFolder, $"{name}.dump");
        var cpu = serverCpu.Total();
        var clock = RunClock.Start();
        try
        {
            await StockPipeline.RunAsync(runner, server,
                $"zstd -d -q -o {StockPipeline.Quote(archive)} {StockPipeline.Quote(backupPath)} && createdb --no-password {name} && " +
                $"pg_restore --dbname={name} --jobs={jobs} --no-owner --no-password {StockPipeline.Quote(archive)}", ct);
            var (wall, self, children) = clock.Stop();
            return new RunSample(wall, self + children, ServerCpu: serverCpu.Total() - cpu);
        }
        finally
        {
            File.Delete(archive);
            await DropAsync(runner, server, name);
        }
    }

    private static string NewName(string what) =>
        $"bench_restore_{what}_{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";

    internal static async Task DropAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder server, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await runner.RunAsync(new PgToolInvocation("dropdb", ["--no-password", "--if-exists", "--force", name]) { Connection = server }, CancellationToken.None);
    }
}
