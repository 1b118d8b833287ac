using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace HelloJohn.Console.Bench.Sets;

/// <summary><c>bench sets</c>: starts a private cluster, runs <see cref="SetsBenchmark"/>, prints its table.</summary>
public static class SetsBench
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter log, CancellationToken ct = default)
    {
        var command = SetsBenchCommand.Parse(args);
        var runner = new PgToolRunner(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);
        var root = Path.Combine(Path.GetTempPath(), $"hjc-bench-pg-{Guid.NewGuid():N}"[..24]);
        await log.WriteLineAsync($"Starting a private PostgreSQL cluster in {root}…");
        await using var cluster = await LocalPostgresCluster.StartAsync(root, runner, deleteOnDispose: true, ct: ct);
        var table = await new SetsBenchmark(command, cluster, runner, log).RunAsync(ct);
        await output.WriteLineAsync(table);
        if (command.OutputFile is { } file)
        {
            await File.WriteAllTextAsync(file, table, ct);
        }

        return 0;
    }
}
