using System.Globalization;
using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>HelloJohn's documented weekly verify script, step by step: createdb, pg_restore, two count(*), dropdb.</summary>
public static class VerificationCases
{
    /// <param name="server">A role that may create databases, connected to a database it can reach.</param>
    /// <param name="jobs">null for the script as documented (one pg_restore process); otherwise <c>--jobs</c>.</param>
    public static async Task<RunSample> DocumentedScriptAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder server, ClusterCpu serverCpu, string dumpPath, int? jobs, CancellationToken ct)
    {
        var name = $"hellojohn_verify_{DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}_script";
        var into = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name };
        await using var sampler = new ChildPeakRssSampler();
        var cpu = serverCpu.Total();
        var clock = RunClock.Start();
        var created = false;
        try
        {
            DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("createdb", ["--no-password", name]) { Connection = server }, ct), "createdb");
            created = true;
            List<string> restore = ["--no-password", $"--dbname={name}"];
            if (jobs is { } j)
            {
                restore.Add($"--jobs={j}");
            }

            restore.Add(dumpPath);
            DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("pg_restore", restore) { Connection = into }, ct), "pg_restore");
            foreach (var (label, table) in new[] { ("users", "hj_user"), ("sessions", "hj_session") })
            {
                DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("psql",
                    ["--no-password", "--dbname", name, "-c", $"SELECT COUNT(*) AS {label} FROM {table};"]) { Connection = into }, ct), "psql");
            }

            DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("dropdb", ["--no-password", name]) { Connection = server }, ct), "dropdb");
            created = false;
        }
        finally
        {
            if (created)
            {
                await runner.RunAsync(new PgToolInvocation("dropdb", ["--no-password", "--if-exists", name]) { Connection = server }, CancellationToken.None);
            }
        }

        var (wall, self, children) = clock.Stop();
        return new RunSample(wall, self + children, ToolPeakRssBytes: sampler.PeakOf("pg_restore"), ServerCpu: serverCpu.Total() - cpu);
    }
}
