using System.Globalization;
using HelloJohn.Console.Bench.Cases;
using HelloJohn.Console.Bench.Generation;
using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Bench.Reporting;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Dashboard;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Bench;

/// <summary>One benchmark run on a PostgreSQL cluster: generates the databases, runs every case side by side, several
/// times, and returns the figures. Everything it creates in the cluster and on disk is removed at the end.</summary>
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
            var target = await CreateDatabaseAsync($"bench_hj_{_runId}", canCreateDatabases: true, created, ct);
            var quarter = await CreateDatabaseAsync($"bench_hjq_{_runId}", canCreateDatabases: true, created, ct);
            var consoleDb = await CreateDatabaseAsync($"bench_console_{_runId}", canCreateDatabases: false, created, ct);

            var full = await ScaleDataGenerator.GenerateAsync(target, settings.Users, log, ct);
            var small = await ScaleDataGenerator.GenerateAsync(quarter, settings.QuarterUsers, log, ct);
            var machine = await MachineFactsAsync(target, ct);
            var databases = new List<DatabaseFacts>
            {
                new("reference", full.Users, full.Rows["hj_session"], full.DatabaseBytes, full.Duration),
                new("quarter", small.Users, small.Rows["hj_session"], small.DatabaseBytes, small.Duration),
            };

            await using var console = await ConsoleUnderTest.StartAsync(consoleDb, target, Path.Combine(work, "console"),
                new Dictionary<string, string?> { ["Verification:Jobs"] = settings.RestoreJobs.ToString(CultureInfo.InvariantCulture) }, ct);
            var targetId = await console.DefaultTargetAsync(ct);
            var quarterId = await console.Service<TargetService>().AddStoredAsync("bench-quarter", quarter.ConnectionString, null, TargetProvider.SelfManaged, ct);

            var loadAtStart = LoadAverage();
            log.WriteLine("Warming the page cache…");
            await DumpCases.WarmUpAsync(runner, target, ct);
            await DumpCases.WarmUpAsync(runner, quarter, ct);
            // The first backup in a process pays for JIT compilation; a console that runs nightly has paid it long ago.
            await console.BackupAsync(quarterId, ct);

            var (backupCases, memoryCases, recipeDump, consoleBackupId, consoleDefault) = await RunBackupsAsync(console, target, targetId, quarterId, dumps, ct);
            var verificationCases = await RunVerificationsAsync(console, target, recipeDump, consoleBackupId, ct);
            var uiCases = await RunCatalogAsync(console, consoleDb, targetId, ct);
            machine = machine with { LoadAverages = $"at start {loadAtStart}, at end {LoadAverage()}" };
            return new BenchmarkReport(machine, databases, consoleDefault, [.. backupCases, .. memoryCases, .. verificationCases, .. uiCases], _notes);
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

    private async Task<(List<CaseSummary> Backup, List<CaseSummary> Memory, string RecipeDump, Guid ConsoleBackupId, string ConsoleDefault)> RunBackupsAsync(
        ConsoleUnderTest console, NpgsqlConnectionStringBuilder target, Guid targetId, Guid quarterId, string dumps, CancellationToken ct)
    {
        var cases = new List<(string Name, Func<int, Task<RunSample>> Run)>();
        var recipeLevel = 9;
        foreach (var level in settings.GzipLevels.Distinct().OrderByDescending(l => l == recipeLevel ? int.MaxValue : l))
        {
            var name = level == recipeLevel ? "pg_dump -Fc -Z9 --file (documented recipe)" : $"pg_dump -Fc -Z{level} --file";
            cases.Add((name, rep => DumpCases.PgDumpToFileAsync(runner, target, level, Path.Combine(dumps, $"z{level}_{rep}.dump"), ct)));
        }

        foreach (var level in settings.ZstdLevels.Distinct().Order())
        {
            cases.Add(($"pg_dump -Fc -Z0 | zstd -{level} (in process)", rep => DumpCases.PgDumpThroughZstdAsync(runner, target, level, Path.Combine(dumps, $"zstd{level}_{rep}.dump.zst"), ct)));
        }

        var samples = cases.ToDictionary(c => c.Name, _ => new List<RunSample>());
        var consoleSamples = new List<RunSample>();
        var quarterSamples = new List<RunSample>();
        Guid? consoleBackupId = null;
        string? consoleCompression = null;
        for (var rep = 1; rep <= settings.Reps; rep++)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Backups, repetition {rep}/{settings.Reps}…"));
            foreach (var (name, run) in cases)
            {
                samples[name].Add(await run(rep));
                // Only the last recipe dump is kept, for the verification cases; the rest only cost disk space.
                foreach (var file in Directory.EnumerateFiles(dumps).Where(f => !Path.GetFileName(f).StartsWith($"z{recipeLevel}_", StringComparison.Ordinal)))
                {
                    File.Delete(file);
                }
            }

            var (sample, details) = await ConsoleBackupAsync(console, targetId, ct);
            consoleSamples.Add(sample);
            consoleBackupId = details.Backup.Id;
            consoleCompression = details.Compression;
            var (quarterSample, _) = await ConsoleBackupAsync(console, quarterId, ct);
            quarterSamples.Add(quarterSample);
        }

        var consoleCase = $"console backup ({consoleCompression}, via BackupService)";
        var backup = cases.Select(c => new CaseSummary(BenchmarkGroups.Backup, c.Name, samples[c.Name])).ToList();
        backup.Add(new CaseSummary(BenchmarkGroups.Backup, consoleCase, consoleSamples));
        var memory = new List<CaseSummary>
        {
            new(BenchmarkGroups.Memory, $"console backup, {settings.Users:N0} users", consoleSamples),
            new(BenchmarkGroups.Memory, $"console backup, {settings.QuarterUsers:N0} users (¼)", quarterSamples),
        };
        var recipe = Path.Combine(dumps, $"z{recipeLevel}_{settings.Reps}.dump");
        if (!File.Exists(recipe))
        {
            // The recipe level was left out of the gzip levels: the documented script still needs its file.
            await DumpCases.PgDumpToFileAsync(runner, target, recipeLevel, recipe, ct);
        }

        return (backup, memory, recipe, consoleBackupId!.Value, consoleCompression!);
    }

    private static async Task<(RunSample, BackupDetails)> ConsoleBackupAsync(ConsoleUnderTest console, Guid targetId, CancellationToken ct)
    {
        ProcessResources.ResetPeakRss();
        await using var sampler = new ChildPeakRssSampler();
        var clock = RunClock.Start();
        var details = await console.BackupAsync(targetId, ct);
        var (wall, self, children) = clock.Stop();
        var peak = ProcessResources.PeakRssBytes();
        return (new RunSample(wall, self + children, details.Backup.SizeBytes, peak, sampler.PeakOf("pg_dump")), details);
    }

    private async Task<List<CaseSummary>> RunVerificationsAsync(ConsoleUnderTest console, NpgsqlConnectionStringBuilder target, string recipeDump, Guid consoleBackupId, CancellationToken ct)
    {
        var jobs = settings.RestoreJobs;
        var cases = new List<(string Name, Func<Task<RunSample>> Run)>
        {
            ("documented verify script (createdb, pg_restore, 2× count(*), dropdb) on the -Z9 dump", () => VerificationCases.DocumentedScriptAsync(runner, target, recipeDump, null, ct)),
            ($"documented verify script with pg_restore -j {jobs}", () => VerificationCases.DocumentedScriptAsync(runner, target, recipeDump, jobs, ct)),
            ($"console verification (VerificationService: checks, pg_restore -j {jobs}, count every table, drop) of its own backup",
                () => ConsoleVerificationAsync(console, consoleBackupId, ct)),
        };
        var samples = cases.ToDictionary(c => c.Name, _ => new List<RunSample>());
        for (var rep = 1; rep <= settings.EffectiveVerificationReps; rep++)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Verification, repetition {rep}/{settings.EffectiveVerificationReps}…"));
            foreach (var (name, run) in cases)
            {
                samples[name].Add(await run());
            }
        }

        return [.. cases.Select(c => new CaseSummary(BenchmarkGroups.Verification, c.Name, samples[c.Name]))];
    }

    private static async Task<RunSample> ConsoleVerificationAsync(ConsoleUnderTest console, Guid backupId, CancellationToken ct)
    {
        await using var sampler = new ChildPeakRssSampler();
        var clock = RunClock.Start();
        var details = await console.Service<VerificationService>().VerifyAsync(ConsoleUnderTest.Operator, backupId, ct);
        var (wall, self, children) = clock.Stop();
        if (details.Run.Status != VerificationStatus.Passed)
        {
            throw new InvalidOperationException($"The console's verification of its own backup did not pass ({details.Run.Error}); the benchmark's figures are not valid.");
        }

        return new RunSample(wall, self + children, ToolPeakRssBytes: sampler.PeakOf("pg_restore"));
    }

    private async Task<List<CaseSummary>> RunCatalogAsync(ConsoleUnderTest console, NpgsqlConnectionStringBuilder consoleDb, Guid targetId, CancellationToken ct)
    {
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Seeding the catalog with {settings.CatalogBackups:N0} backups and {settings.CatalogVerifications:N0} verification runs…"));
        var dbFactory = console.Service<IDbContextFactory<ConsoleDbContext>>();
        var seeded = await CatalogCases.SeedBackupsAsync(dbFactory, consoleDb, targetId, settings.CatalogBackups, ct);
        await CatalogCases.SeedVerificationRunsAsync(dbFactory, consoleDb, targetId, seeded, settings.CatalogVerifications, ct);
        _notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"UI figures are the Core service calls behind the pages, in process: the Backups grid's first page (QueryAsync, then the verification badges of its rows) and the Dashboard, on a catalog of {settings.CatalogBackups:N0} backup records (one every 30 minutes; the last two weeks succeeded, older ones expired, 5% failed, 1% cancelled) and {settings.CatalogVerifications:N0} verification runs."));
        var page = await CatalogCases.TimeBackupsPageAsync(console.Service<BackupService>(), console.Service<VerificationService>(), settings.UiReps, ct);
        var dashboard = await CatalogCases.TimeDashboardAsync(console.Service<DashboardService>(), settings.UiReps, ct);
        return
        [
            new(BenchmarkGroups.Ui, "Backups page, first page (BackupService.QueryAsync + verification badges)", page),
            new(BenchmarkGroups.Ui, "Dashboard (DashboardService.GetAsync)", dashboard),
        ];
    }

    private async Task<NpgsqlConnectionStringBuilder> CreateDatabaseAsync(string name, bool canCreateDatabases, List<string> created, CancellationToken ct)
    {
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)) + "a!";
        await cluster.EnsureDatabaseAsync(name, name, password, canCreateDatabases, ct);
        created.Add(name);
        return cluster.ConnectionFor(name, name, password);
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
            log.WriteLine($"Could not remove every database the benchmark created ({e.Message}); they are in the cluster at {cluster.Root}.");
        }
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

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
