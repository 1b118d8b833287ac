using HelloJohn.Console.Bench.Generation;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace HelloJohn.Console.Bench;

public static class BenchProgram
{
    public static async Task<int> RunAsync(BenchCommand command, TextWriter output, TextWriter log, CancellationToken ct = default)
    {
        var runner = new PgToolRunner(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);
        if (command.Verb == BenchVerb.Generate)
        {
            var dsn = command.Dsn ?? Environment.GetEnvironmentVariable("HELLOJOHN_DATABASE_URL");
            if (string.IsNullOrWhiteSpace(dsn))
            {
                throw new BenchUsageException("generate needs --dsn or HELLOJOHN_DATABASE_URL to know which database to fill.");
            }

            var result = await ScaleDataGenerator.GenerateAsync(PgConnection.Parse(dsn), command.Settings.Users, log, ct);
            await output.WriteLineAsync($"Generated {result.Users:N0} users in {result.Duration.TotalSeconds:F1} s (COPY {result.LoadDuration.TotalSeconds:F1} s, keys, indexes and VACUUM {result.IndexDuration.TotalSeconds:F1} s); {result.DatabaseBytes / 1048576.0:N0} MB on disk.");
            return 0;
        }

        var root = Path.Combine(Path.GetTempPath(), $"hjc-bench-pg-{Guid.NewGuid():N}"[..24]);
        await log.WriteLineAsync($"Starting a private PostgreSQL cluster in {root}…");
        await using var cluster = await LocalPostgresCluster.StartAsync(root, runner, deleteOnDispose: true, ct: ct);
        var report = await new Benchmark(command.Settings, cluster, runner, log).RunAsync(ct);
        var table = report.Render();
        await output.WriteLineAsync(table);
        if (command.OutputFile is { } file)
        {
            await File.WriteAllTextAsync(file, table, ct);
        }

        return 0;
    }
}
