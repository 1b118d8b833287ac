using System.Diagnostics;
using System.Globalization;
using HelloJohn.Console.Bench.Generation;
using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>Point-in-time recovery figures: the RPO of the WAL stream under a steady write load (lag from a commit on
/// the server to the same commit flushed by the console's pg_receivewal, as the server sees it in
/// pg_stat_replication.flush_lsn), and a restore to a time compared with restoring a dump of the same database.
/// <c>bench pitr [--rate N] [--seconds S] [--modes synchronous,status] [--restore-users N] [--restore-load-seconds S]</c>.</summary>
public static class PitrBench
{
    public const string Usage = "bench pitr [--rate 200] [--seconds 300] [--modes synchronous,status] [--restore-users 0] [--restore-load-seconds 60]";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter log, CancellationToken ct = default)
    {
        var rate = 200;
        var seconds = 300;
        var modes = new[] { "synchronous", "status" };
        var restoreUsers = 0;
        var restoreLoad = 60;
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : throw new BenchUsageException($"{args[i]} needs a value. {Usage}");
            switch (args[i++])
            {
                case "--rate": rate = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--modes": modes = value.Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--restore-users": restoreUsers = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--restore-load-seconds": restoreLoad = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new BenchUsageException($"'{args[i - 1]}' is not an option of pitr. {Usage}");
            }
        }

        var runner = new PgToolRunner(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);
        var root = Path.Combine(Path.GetTempPath(), $"hjc-bench-pitr-{Guid.NewGuid():N}"[..26]);
        await log.WriteLineAsync($"Starting a private PostgreSQL cluster in {root}…");
        await using var cluster = await LocalPostgresCluster.StartAsync(root, runner, deleteOnDispose: true, ct: ct);
        await cluster.EnsureDatabaseAsync("hellojohn", "hellojohn", "bench-Pa55", canCreateDatabases: true, ct);
        await cluster.EnsureDatabaseAsync("hellojohn_console", "hellojohn_console", "bench-Pa55", canCreateDatabases: false, ct);
        var target = cluster.ConnectionFor("hellojohn");
        if (restoreUsers > 0)
        {
            await log.WriteLineAsync($"Generating {restoreUsers:N0} users…");
            await ScaleDataGenerator.GenerateAsync(target, restoreUsers, log, ct);
        }
        else
        {
            await DemoHelloJohnDatabase.EnsureAsync(cluster.ConnectionFor("hellojohn", "hellojohn", "bench-Pa55"), 1000, ct);
        }

        foreach (var mode in modes)
        {
            var figures = await MeasureRpoAsync(cluster, target, mode == "synchronous", rate, seconds, log, ct);
            await output.WriteLineAsync(figures);
        }

        if (restoreUsers > 0)
        {
            await output.WriteLineAsync(await MeasureRestoreAsync(cluster, runner, target, rate, restoreLoad, log, ct));
        }

        return 0;
    }

    private static async Task<ConsoleUnderTest> StartConsoleAsync(LocalPostgresCluster cluster, NpgsqlConnectionStringBuilder target, bool synchronous, CancellationToken ct)
    {
        // One data folder for every console of the run: they share the console database and its key ring.
        var data = Path.Combine(cluster.Root, "console");
        return await ConsoleUnderTest.StartAsync(cluster.ConnectionFor("hellojohn_console", "hellojohn_console", "bench-Pa55"), target, data, new Dictionary<string, string?>
        {
            ["Pitr:Enabled"] = "true",
            ["Pitr:Synchronous"] = synchronous ? "true" : "false",
            ["Pitr:BaseBackupCron"] = "",
            ["Pitr:SupervisorInterval"] = "00:00:01",
        }, ct);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, CancellationToken ct)
    {
        var until = DateTime.UtcNow.AddMinutes(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }

            await Task.Delay(200, ct);
        }
    }

    private static async Task<string> MeasureRpoAsync(LocalPostgresCluster cluster, NpgsqlConnectionStringBuilder target, bool synchronous, int rate, int seconds, TextWriter log, CancellationToken ct)
    {
        await using var console = await StartConsoleAsync(cluster, target, synchronous, ct);
        var server = await console.DefaultTargetAsync(ct);
        var pitr = console.Service<PitrService>();
        await WaitAsync(async () => (await pitr.GetOverviewAsync(server, ct)).State?.State == ReceiverState.Streaming, "streaming", ct);
        await log.WriteLineAsync($"RPO, pg_receivewal {(synchronous ? "--synchronous" : "with its status interval")}: {rate} commits/s for {seconds} s…");

        var commits = new List<(long At, ulong Lsn)>();
        var flushes = new List<(long At, ulong Lsn)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watcher = Task.Run(async () =>
        {
            await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Pooling = false }.ConnectionString);
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT coalesce(max(r.flush_lsn - '0/0'), 0)::bigint FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name LIKE 'hellojohn\\_console\\_%'", conn);
            while (!stop.IsCancellationRequested)
            {
                var lsn = (ulong)(long)(await cmd.ExecuteScalarAsync(CancellationToken.None))!;
                flushes.Add((Stopwatch.GetTimestamp(), lsn));
                await Task.Delay(2, CancellationToken.None);
            }
        }, CancellationToken.None);

        await using (var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await conn.OpenAsync(ct);
            await using (var ddl = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(), note text)", conn))
            {
                await ddl.ExecuteNonQueryAsync(ct);
            }

            await using var insert = new NpgsqlCommand("INSERT INTO bench_writes (note) VALUES ('x')", conn);
            await using var position = new NpgsqlCommand("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint", conn);
            var interval = Stopwatch.Frequency / rate;
            var start = Stopwatch.GetTimestamp();
            var end = start + (seconds * Stopwatch.Frequency);
            for (var next = start; next < end; next += interval)
            {
                var wait = next - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), ct);
                }

                await insert.ExecuteNonQueryAsync(ct);
                var at = Stopwatch.GetTimestamp();
                commits.Add((at, (ulong)(long)(await position.ExecuteScalarAsync(ct))!));
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(synchronous ? 2 : 12), ct);
        await stop.CancelAsync();
        await watcher;
        var lags = Lags(commits, flushes);
        var achieved = commits.Count / (double)seconds;
        if (lags.Count == 0)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"RPO ({(synchronous ? "--synchronous" : "status interval 10 s")}): {commits.Count:N0} commits at {achieved:F0}/s; none was flushed by the console during the run (without --synchronous pg_receivewal flushes at the end of a 16 MB segment only)");
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"RPO ({(synchronous ? "--synchronous" : "status interval 10 s")}): {commits.Count:N0} commits at {achieved:F0}/s; lag commit → flushed by the console: p50 {Pct(lags, 0.50):F0} ms, p90 {Pct(lags, 0.90):F0} ms, p99 {Pct(lags, 0.99):F0} ms, max {lags.DefaultIfEmpty().Max():F0} ms ({commits.Count - lags.Count} not seen flushed)");
    }

    /// <summary>For each commit, the first observation of a flush position at or past it.</summary>
    private static List<double> Lags(List<(long At, ulong Lsn)> commits, List<(long At, ulong Lsn)> flushes)
    {
        var lags = new List<double>();
        var j = 0;
        foreach (var (at, lsn) in commits)
        {
            // Both commit times and flush positions only grow: the first sample at or after the commit that covers it.
            while (j < flushes.Count && (flushes[j].At < at || flushes[j].Lsn < lsn))
            {
                j++;
            }

            if (j < flushes.Count)
            {
                lags.Add((flushes[j].At - at) * 1000.0 / Stopwatch.Frequency);
            }
        }

        return lags;
    }

    private static double Pct(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static async Task<string> MeasureRestoreAsync(LocalPostgresCluster cluster, PgToolRunner runner, NpgsqlConnectionStringBuilder target, int rate, int loadSeconds, TextWriter log, CancellationToken ct)
    {
        await using var console = await StartConsoleAsync(cluster, target, synchronous: true, ct);
        var server = await console.DefaultTargetAsync(ct);
        var pitr = console.Service<PitrService>();
        await log.WriteLineAsync("Waiting for the first base backup…");
        await WaitAsync(async () => (await pitr.GetOverviewAsync(server, ct)).BaseBackups.Any(b => b.Status == BaseBackupStatus.Succeeded), "a base backup", ct);

        await log.WriteLineAsync($"Write load: {rate} commits/s for {loadSeconds} s…");
        await using (var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await conn.OpenAsync(ct);
            await using var ddl = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(), note text)", conn);
            await ddl.ExecuteNonQueryAsync(ct);
            await using var insert = new NpgsqlCommand("INSERT INTO bench_writes (note) VALUES (repeat('x', 200))", conn);
            var until = DateTime.UtcNow.AddSeconds(loadSeconds);
            while (DateTime.UtcNow < until)
            {
                await insert.ExecuteNonQueryAsync(ct);
                await Task.Delay(1000 / rate, ct);
            }
        }

        await Task.Delay(3000, ct);
        var targetTime = DateTimeOffset.UtcNow.AddSeconds(-2);
        var dir = Path.Combine(cluster.Root, "pitr-restored");
        var watch = Stopwatch.StartNew();
        var plan = await console.Service<PitrRestorePlanner>().PlanAtAsync(server, targetTime, "UTC", PitrRestoreMode.Verify, dir, null, ct);
        var result = await console.Service<PointInTimeRestoreEngine>().RestoreAsync(plan, new Progress<string>(l => log.WriteLine(l)), ct);
        var pitrSeconds = watch.Elapsed.TotalSeconds;
        await runner.RunAsync(new PgToolInvocation("pg_ctl", ["-D", dir, "-m", "fast", "-w", "stop"]) { AsServerUser = true }, ct);

        await log.WriteLineAsync("The same database as a nightly dump: pg_dump -Fc, then pg_restore -j 2 into a new database…");
        var dump = Path.Combine(cluster.Root, "nightly.dump");
        var dumped = await runner.RunAsync(new PgToolInvocation("pg_dump", ["--format=custom", "--compress=0", "--file", dump]) { Connection = target }, ct);
        if (!dumped.Succeeded)
        {
            throw new InvalidOperationException(dumped.ErrorSummary);
        }

        await cluster.EnsureDatabaseAsync("bench_nightly_restore", "hellojohn", "bench-Pa55", canCreateDatabases: true, ct);
        watch.Restart();
        var restored = await runner.RunAsync(new PgToolInvocation("pg_restore", ["--jobs=2", "--no-owner", "--dbname", "bench_nightly_restore", dump]) { Connection = target }, ct);
        var dumpSeconds = watch.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"Restore to a time ({result.RowCounts.Where(c => c.Database == "hellojohn").Sum(c => c.Rows):N0} rows in hellojohn, {plan.Segments.Count} WAL segments): {pitrSeconds:F1} s; pg_restore -j 2 of the same database's dump: {dumpSeconds:F1} s{(restored.Succeeded ? "" : " (with errors)")}; ratio {pitrSeconds / dumpSeconds:F2}. Stopped: {result.StoppedAt}");
    }
}
