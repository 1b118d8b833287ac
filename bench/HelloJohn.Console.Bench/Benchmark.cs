using System.Globalization;
using HelloJohn.Console.Bench.Cases;
using HelloJohn.Console.Bench.Generation;
using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Bench.Reporting;
using HelloJohn.Console.Core.Dashboard;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Bench;

/// <summary>One benchmark run on a PostgreSQL cluster standing for HelloJohn's production server: generates the
/// databases, runs every case side by side, several times, and returns the figures. The console's own catalog lives in
/// a second cluster, so the production server's CPU counts HelloJohn's database only. Everything the run creates is
/// removed at the end.</summary>
public sealed class Benchmark(BenchmarkSettings settings, LocalPostgresCluster cluster, IPgToolRunner runner, TextWriter log)
{
    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _notes = [];

    public async Task<BenchmarkReport> RunAsync(CancellationToken ct = default)
    {
        var ownWork = settings.WorkDirectory is null;
        var work = settings.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"hjc-bench-{_runId}");
        var dumps = Path.Combine(work, "dumps");
        Directory.CreateDirectory(dumps);
        var created = new List<string>();
        try
        {
            var target = await CreateDatabaseAsync(cluster, $"bench_hj_{_runId}", canCreateDatabases: true, created, ct);
            var quarter = await CreateDatabaseAsync(cluster, $"bench_hjq_{_runId}", canCreateDatabases: true, created, ct);
            await log.WriteLineAsync("Starting a second cluster for the console's own catalog…");
            await using var catalogCluster = await LocalPostgresCluster.StartAsync(Path.Combine(work, "catalog-pg"), runner, deleteOnDispose: true, ct: ct);
            var consoleDb = await CreateDatabaseAsync(catalogCluster, $"bench_console_{_runId}", canCreateDatabases: false, [], ct);

            var full = await ScaleDataGenerator.GenerateAsync(target, settings.Users, log, ct);
            var small = await ScaleDataGenerator.GenerateAsync(quarter, settings.QuarterUsers, log, ct);
            var machine = await MachineFactsAsync(target, ct);
            var databases = new List<DatabaseFacts>
            {
                new("reference", full.Users, full.Rows["hj_session"], full.DatabaseBytes, full.Duration),
                new("quarter", small.Users, small.Rows["hj_session"], small.DatabaseBytes, small.Duration),
            };

            var production = new ClusterCpu(cluster.DataDirectory);
            await using var console = await ConsoleUnderTest.StartAsync(consoleDb, target, Path.Combine(work, "console"),
                new Dictionary<string, string?> { ["Verification:Jobs"] = settings.RestoreJobs.ToString(CultureInfo.InvariantCulture) }, ct);
            var targetId = await console.DefaultTargetAsync(ct);
            var quarterId = await console.Service<TargetService>().AddStoredAsync("bench-quarter", quarter.ConnectionString, null, TargetProvider.SelfManaged, ct);

            var loadAtStart = LoadAverage();
            await log.WriteLineAsync("Warming the page cache…");
            await DumpCases.WarmUpAsync(runner, target, ct);
            await DumpCases.WarmUpAsync(runner, quarter, ct);
            await WarmUpConsoleAsync(console, quarterId, ct);

            var cases = new BenchmarkCases(settings, runner, production, console, target, dumps, log, _notes);
            var backups = await cases.BackupsAsync(targetId, quarterId, ct);
            var verifications = await cases.VerificationsAsync(backups.RecipeDump, backups.ConsoleBackupId, backups.QuarterBackupId, ct);
            var restores = await cases.RestoresAsync(backups.RecipeDump, backups.ConsoleBackupId, backups.ConsoleBackupPath, ct);
            var drills = await cases.DrillsAsync(targetId, ct);
            var endToEnd = settings.EndToEnd ? await EndToEndAsync(catalogCluster, target, production, work, backups, verifications, restores, ct) : [];
            var uiCases = await RunCatalogAsync(console, consoleDb, targetId, ct);
            machine = machine with { LoadAverages = $"at start {loadAtStart}, at end {LoadAverage()}" };
            return new BenchmarkReport(machine, databases, backups.ConsoleDefault,
                [.. backups.Cases, .. verifications, .. restores, .. drills, .. endToEnd, .. uiCases], _notes);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await DropDatabasesAsync(created);
            if (ownWork && Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    /// <summary>The first backups in a process pay for JIT compilation, and the runtime recompiles their hot methods
    /// optimized in the background once they have been called often enough; a console that runs nightly has paid for
    /// most of it long ago. Five unmeasured quarter backups come before the measured ones, and what each cost is
    /// reported.</summary>
    private async Task WarmUpConsoleAsync(ConsoleUnderTest console, Guid quarterId, CancellationToken ct)
    {
        const int WarmUps = 5;
        var costs = new List<string>();
        for (var i = 1; i <= WarmUps; i++)
        {
            var methods = System.Runtime.JitInfo.GetCompiledMethodCount();
            var clock = RunClock.Start();
            await console.BackupAsync(quarterId, ct);
            var (wall, self, children) = clock.Stop();
            // Methods queued for optimization are compiled on a background thread after a short delay.
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - methods;
            costs.Add(string.Create(CultureInfo.InvariantCulture, $"{wall.TotalSeconds:F2} s wall, {(self + children).TotalSeconds:F2} s CPU, {compiled:N0} methods compiled"));
        }

        _notes.Add($"Warm-up: {WarmUps} unmeasured console backups of the quarter database before the measured ones: " + string.Join("; ", costs) + ".");
    }

    /// <summary>The Release build started as its own process and driven through its pages, beside the same actions of
    /// the in-process console measured above.</summary>
    private async Task<IReadOnlyList<CaseSummary>> EndToEndAsync(LocalPostgresCluster catalogCluster, NpgsqlConnectionStringBuilder target, ClusterCpu production,
        string work, BackupResults backups, IReadOnlyList<CaseSummary> verifications, IReadOnlyList<CaseSummary> restores, CancellationToken ct)
    {
        var web = ReleaseConsole.FindWebAssembly(RepositoryRoot());
        if (web is null || !File.Exists(ReleaseConsole.ChromiumPath))
        {
            _notes.Add("The end-to-end cases were left out: publish HelloJohn.Console.Web in Release (bench/run.sh does) and install Chromium (/usr/bin/chromium).");
            return [];
        }

        var consoleDb = await CreateDatabaseAsync(catalogCluster, $"bench_web_{_runId}", canCreateDatabases: false, [], ct);
        await using var release = await ReleaseConsole.StartAsync(web, consoleDb, target, Path.Combine(work, "web-console"), log, ct);
        var (backup, verify, restore) = (new List<RunSample>(), new List<RunSample>(), new List<RunSample>());
        for (var rep = 1; rep <= settings.EffectiveVerificationReps; rep++)
        {
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Release console through its pages, repetition {rep}/{settings.EffectiveVerificationReps}…"));
            var (sample, file) = await release.BackUpNowAsync(production);
            backup.Add(sample);
            verify.Add(await release.VerifyAsync(file, production));
            var (restored, database) = await release.RestoreAsync(file, production);
            restore.Add(restored);
            await RestoreCases.DropAsync(runner, target, database);
        }

        _notes.Add("End to end: the published Release build of HelloJohn.Console.Web (ASPNETCORE_ENVIRONMENT=Production), started as its own process with the same target, " +
            "driven in headless Chromium; each time runs from the click to the page showing succeeded or passed. CPU and peak RSS are the console process's " +
            "(with the pg_dump or pg_restore it ran); compare with the in-process rows: " +
            $"backup {Seconds(backups.Cases.First(c => c.Case.StartsWith("console backup", StringComparison.Ordinal)))}, " +
            $"verification {Seconds(verifications.First(c => c.Case.StartsWith("console verification (", StringComparison.Ordinal)))}, " +
            $"restore {Seconds(restores.First(c => c.Case.StartsWith("console restore", StringComparison.Ordinal)))}.");
        return
        [
            new(BenchmarkGroups.EndToEnd, "Back up now → succeeded (Release console, its pages)", backup),
            new(BenchmarkGroups.EndToEnd, "Verify now → passed (scratch cluster)", verify),
            new(BenchmarkGroups.EndToEnd, "Restore into a new database → succeeded", restore),
        ];
    }

    private static string Seconds(CaseSummary c) => string.Create(CultureInfo.InvariantCulture, $"{c.WallMedian.TotalSeconds:F2} s");

    private async Task<List<CaseSummary>> RunCatalogAsync(ConsoleUnderTest console, NpgsqlConnectionStringBuilder consoleDb, Guid targetId, CancellationToken ct)
    {
        await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Seeding the catalog with {settings.CatalogBackups:N0} backups and {settings.CatalogVerifications:N0} verification runs…"));
        var dbFactory = console.Service<IDbContextFactory<ConsoleDbContext>>();
        var seeded = await CatalogCases.SeedBackupsAsync(dbFactory, consoleDb, targetId, settings.CatalogBackups, ct);
        await CatalogCases.SeedVerificationRunsAsync(dbFactory, consoleDb, targetId, seeded, settings.CatalogVerifications, ct);
        _notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"UI figures are the Core service calls behind the pages, in process: the Backups grid's first page (QueryAsync, then the verification badges of its rows) and the Dashboard, on a catalog of {settings.CatalogBackups:N0} backup records (one every 30 minutes; the last two weeks succeeded, older ones expired, 5% failed, 1% cancelled) and {settings.CatalogVerifications:N0} verification runs."));
        var page = await CatalogCases.TimeBackupsPageAsync(console.Service<Core.Backups.BackupService>(), console.Service<VerificationService>(), settings.UiReps, ct);
        var dashboard = await CatalogCases.TimeDashboardAsync(console.Service<DashboardService>(), settings.UiReps, ct);
        return
        [
            new(BenchmarkGroups.Ui, "Backups page, first page (BackupService.QueryAsync + verification badges)", page),
            new(BenchmarkGroups.Ui, "Dashboard (DashboardService.GetAsync)", dashboard),
        ];
    }

    private static async Task<NpgsqlConnectionStringBuilder> CreateDatabaseAsync(LocalPostgresCluster on, string name, bool canCreateDatabases, List<string> created, CancellationToken ct)
    {
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)) + "a!";
        await on.EnsureDatabaseAsync(name, name, password, canCreateDatabases, ct);
        created.Add(name);
        return on.ConnectionFor(name, name, password);
    }

    /// <summary>Drops the run's databases and roles, and any database a role still owns (a verification database a
    /// failed case left behind). Never throws: a failure here must not hide the one that ended the run.</summary>
    private async Task DropDatabasesAsync(IEnumerable<string> names)
    {
        try
        {
            await using var conn = new NpgsqlConnection(cluster.ConnectionFor("postgres").ConnectionString);
            await conn.OpenAsync();
            foreach (var name in names)
            {
                var owned = new List<string>();
                await using (var list = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)", conn)
                {
                    Parameters = { new() { Value = name } },
                })
                await using (var reader = await list.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        owned.Add(reader.GetString(0));
                    }
                }

                foreach (var database in owned.Append(name).Distinct(StringComparer.Ordinal))
                {
                    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {LocalPostgresCluster.QuoteIdent(database)} WITH (FORCE)", conn);
                    await drop.ExecuteNonQueryAsync();
                }

                await using var dropRole = new NpgsqlCommand($"DROP ROLE IF EXISTS {LocalPostgresCluster.QuoteIdent(name)}", conn);
                await dropRole.ExecuteNonQueryAsync();
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            await log.WriteLineAsync($"Could not remove every database the benchmark created ({e.Message}); they are in the cluster at {cluster.Root}.");
        }
    }

    internal static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HelloJohn.Console.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private async Task<MachineFacts> MachineFactsAsync(NpgsqlConnectionStringBuilder db, CancellationToken ct)
    {
        string server;
        await using (var conn = new NpgsqlConnection(db.ConnectionString))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT 'PostgreSQL ' || current_setting('server_version')", conn);
            server = (string)(await cmd.ExecuteScalarAsync(ct))!;
        }

        var pgDump = (await runner.RunAsync(new PgToolInvocation("pg_dump", ["--version"]), ct)).StandardOutputText.Trim();
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memory = ProcessResources.StatusKilobytes("/proc/meminfo", "MemTotal") * 1024;
        return new MachineFacts(Environment.ProcessorCount, cpu, memory, server, pgDump, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
    }
}
