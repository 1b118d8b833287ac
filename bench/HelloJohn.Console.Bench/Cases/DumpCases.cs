using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Core.Postgres;
using Npgsql;
using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>pg_dump run by hand, as HelloJohn's documentation does it, and the alternatives the console could use.</summary>
public static class DumpCases
{
    /// <summary><c>pg_dump --format=custom --compress=N --file=…</c>: the documented recipe at N = 9.</summary>
    public static async Task<RunSample> PgDumpToFileAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder db, int level, string path, CancellationToken ct)
    {
        await using var sampler = new ChildPeakRssSampler();
        var clock = RunClock.Start();
        var result = await runner.RunAsync(new PgToolInvocation("pg_dump",
            ["--format=custom", $"--compress={level}", $"--file={path}", "--no-password", "--dbname", db.Database!]) { Connection = db }, ct);
        var (wall, self, children) = clock.Stop();
        EnsureSucceeded(result, "pg_dump");
        return new RunSample(wall, self + children, new FileInfo(path).Length, ToolPeakRssBytes: sampler.PeakOf("pg_dump"));
    }

    /// <summary>pg_dump's uncompressed stream compressed in this process with the console's native zstd, nothing else.</summary>
    public static async Task<RunSample> PgDumpThroughZstdAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder db, int zstdLevel, string path, CancellationToken ct)
    {
        await using var sampler = new ChildPeakRssSampler();
        var clock = RunClock.Start();
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            await using (var zstd = NativeZstd.Compress(file, zstdLevel))
            {
                var result = await runner.RunAsync(new PgToolInvocation("pg_dump",
                    ["--format=custom", "--compress=0", "--no-password", "--dbname", db.Database!]) { Connection = db, StandardOutput = zstd }, ct);
                EnsureSucceeded(result, "pg_dump");
            }

            await file.FlushAsync(ct);
        }

        var (wall, self, children) = clock.Stop();
        return new RunSample(wall, self + children, new FileInfo(path).Length, ToolPeakRssBytes: sampler.PeakOf("pg_dump"));
    }

    /// <summary><c>pg_dump -Fc -Z0 | zstd -N -T{workers} &gt; file</c> with the stock programs: the console's bare equivalent.</summary>
    public static async Task<RunSample> PgDumpPipeZstdAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder db, int zstdLevel, string path, CancellationToken ct)
    {
        await using var sampler = new ChildPeakRssSampler();
        var clock = RunClock.Start();
        await StockPipeline.RunAsync(runner, db,
            $"pg_dump --format=custom --compress=0 --no-password | zstd -{zstdLevel} -T{NativeZstd.Workers} -q -o {StockPipeline.Quote(path)}", ct);
        var (wall, self, children) = clock.Stop();
        return new RunSample(wall, self + children, new FileInfo(path).Length);
    }

    /// <summary>Reads the whole database once without keeping anything, so every measured run finds it in the page cache.</summary>
    public static async Task WarmUpAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder db, CancellationToken ct)
    {
        var result = await runner.RunAsync(new PgToolInvocation("pg_dump",
            ["--format=custom", "--compress=0", "--no-password", "--dbname", db.Database!]) { Connection = db, StandardOutput = Stream.Null }, ct);
        EnsureSucceeded(result, "pg_dump");
    }

    internal static void EnsureSucceeded(PgToolResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"{what} failed during the benchmark: {result.ErrorSummary}. The figures of this run are not valid.");
        }
    }
}
