using System.Globalization;
using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Bench.Reporting;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Core.Verification.Scratch;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>What the backup cases leave for the others: the documented recipe's dump and the console's newest backup.</summary>
public sealed record BackupResults(IReadOnlyList<CaseSummary> Cases, string RecipeDump, Guid ConsoleBackupId, string ConsoleBackupPath, Guid QuarterBackupId, string ConsoleDefault);

/// <summary>The benchmark's groups of cases on the reference database, each run side by side with what HelloJohn's
/// documentation does by hand, repetition by repetition.</summary>
public sealed class BenchmarkCases(BenchmarkSettings settings, IPgToolRunner runner, ClusterCpu production, ConsoleUnderTest console,
    NpgsqlConnectionStringBuilder target, string dumps, TextWriter log, List<string> notes)
{
    private const int RecipeLevel = 9;

    public async Task<BackupResults> BackupsAsync(Guid targetId, Guid quarterId, CancellationToken ct)
    {
        var cases = new List<(string Name, Func<int, Task<RunSample>> Run)>();
        foreach (var level in settings.GzipLevels.Distinct().OrderByDescending(l => l == RecipeLevel ? int.MaxValue : l))
        {
            var name = level == RecipeLevel ? "pg_dump -Fc -Z9 --file (documented recipe)" : $"pg_dump -Fc -Z{level} --file";
            cases.Add((name, rep => DumpCases.PgDumpToFileAsync(runner, target, level, Path.Combine(dumps, $"z{level}_{rep}.dump"), ct)));
        }

        foreach (var level in settings.ZstdLevels.Distinct().Order())
        {
            cases.Add(($"pg_dump -Fc -Z0 | zstd -{level} -T{NativeWorkers} (stock programs: the bare equivalent)",
                rep => DumpCases.PgDumpPipeZstdAsync(runner, target, level, Path.Combine(dumps, $"pipe{level}_{rep}.dump.zst"), ct)));
            cases.Add(($"pg_dump -Fc -Z0 → native zstd -{level} in process, nothing else",
                rep => DumpCases.PgDumpThroughZstdAsync(runner, target, level, Path.Combine(dumps, $"zstd{level}_{rep}.dump.zst"), ct)));
        }

        var samples = cases.ToDictionary(c => c.Name, _ => new List<RunSample>());
        var consoleSamples = new List<RunSample>();
        var quarterSamples = new List<RunSample>();
        Core.Backups.BackupDetails? last = null;
        Core.Backups.BackupDetails? lastQuarter = null;
        for (var rep = 1; rep <= settings.Reps; rep++)
        {
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Backups, repetition {rep}/{settings.Reps}…"));
            foreach (var (name, run) in cases)
            {
                samples[name].Add(await WithServerCpuAsync(() => run(rep)));
                // Only the last recipe dump is kept, for the verification and restore cases; the rest only cost disk space.
                foreach (var file in Directory.EnumerateFiles(dumps).Where(f => !Path.GetFileName(f).StartsWith($"z{RecipeLevel}_", StringComparison.Ordinal)))
                {
                    File.Delete(file);
                }
            }

            (var sample, last) = await ConsoleBackupAsync(targetId);
            consoleSamples.Add(sample);
            (var quarterSample, lastQuarter) = await ConsoleBackupAsync(quarterId);
            quarterSamples.Add(quarterSample);
        }

        var backup = cases.Select(c => new CaseSummary(BenchmarkGroups.Backup, c.Name, samples[c.Name])).ToList();
        backup.Add(new CaseSummary(BenchmarkGroups.Backup, $"console backup ({last!.Compression}, via BackupService)", consoleSamples));
        backup.Add(new CaseSummary(BenchmarkGroups.Memory, $"console backup, {settings.Users:N0} users", consoleSamples));
        backup.Add(new CaseSummary(BenchmarkGroups.Memory, $"console backup, {settings.QuarterUsers:N0} users (¼)", quarterSamples));
        var recipe = Path.Combine(dumps, $"z{RecipeLevel}_{settings.Reps}.dump");
        if (!File.Exists(recipe))
        {
            // The recipe level was left out of the gzip levels: the documented scripts still need its file.
            await DumpCases.PgDumpToFileAsync(runner, target, RecipeLevel, recipe, ct);
        }

        return new BackupResults(backup, recipe, last.Backup.Id, Path.Combine(console.DataDirectory, "backups", last.Backup.FileName), lastQuarter!.Backup.Id, last.Compression);

        async Task<(RunSample, Core.Backups.BackupDetails)> ConsoleBackupAsync(Guid id)
        {
            ProcessResources.ResetPeakRss();
            await using var sampler = new ChildPeakRssSampler();
            var cpu = production.Total();
            var clock = RunClock.Start();
            var details = await console.BackupAsync(id, ct);
            var (wall, self, children) = clock.Stop();
            var peak = ProcessResources.PeakRssBytes();
            return (new RunSample(wall, self + children, details.Backup.SizeBytes, peak, sampler.PeakOf("pg_dump"), production.Total() - cpu), details);
        }
    }

    private static int NativeWorkers => Core.Backups.NativeZstd.Workers;

    public async Task<IReadOnlyList<CaseSummary>> VerificationsAsync(string recipeDump, Guid consoleBackupId, Guid quarterBackupId, CancellationToken ct)
    {
        var jobs = settings.RestoreJobs;
        var scratch = console.Service<ScratchCluster>();
        await log.WriteLineAsync("Starting the console's scratch cluster and warming the verification path…");
        var coldClock = RunClock.Start();
        await using (await scratch.AcquireAsync(runner.Binaries.MajorVersion, ct))
        {
        }

        var (coldWall, coldSelf, coldChildren) = coldClock.Stop();
        await console.VerifyAsync(quarterBackupId, ct);

        var cases = new List<(string Name, Func<Task<RunSample>> Run)>
        {
            ("documented verify script (createdb, pg_restore, 2× count(*), dropdb) on the -Z9 dump", () => VerificationCases.DocumentedScriptAsync(runner, target, production, recipeDump, null, ct)),
            ($"documented verify script with pg_restore -j {jobs}", () => VerificationCases.DocumentedScriptAsync(runner, target, production, recipeDump, jobs, ct)),
            ($"console verification (scratch cluster, the default; pg_restore -j {jobs}, counts on {jobs} connections)", () => ConsoleVerificationAsync(consoleBackupId, onTarget: false, ct)),
            ("console verification on the target's server (Verification__RestoreInto=TargetServer)", () => ConsoleVerificationAsync(consoleBackupId, onTarget: true, ct)),
        };
        var samples = await RepeatAsync("Verification", cases);
        return
        [
            .. cases.Select(c => new CaseSummary(BenchmarkGroups.Verification, c.Name, samples[c.Name])),
            new(BenchmarkGroups.Verification, "scratch cluster's first start (initdb, start; once per console process)", [new RunSample(coldWall, coldSelf + coldChildren)]),
        ];
    }

    private async Task<RunSample> ConsoleVerificationAsync(Guid backupId, bool onTarget, CancellationToken ct)
    {
        if (onTarget)
        {
            console.Set("Verification:RestoreInto", nameof(VerificationServerChoice.TargetServer));
        }

        try
        {
            await using var sampler = new ChildPeakRssSampler();
            var cpu = production.Total();
            var clock = RunClock.Start();
            var (details, phases) = await console.VerifyAsync(backupId, ct);
            var (wall, self, children) = clock.Stop();
            if (details.Run.Status != VerificationStatus.Passed)
            {
                throw new InvalidOperationException($"The console's verification of its own backup did not pass ({details.Run.Error}); the benchmark's figures are not valid.");
            }

            return new RunSample(wall, self + children, ToolPeakRssBytes: sampler.PeakOf("pg_restore"), ServerCpu: production.Total() - cpu, Phases: phases);
        }
        finally
        {
            console.Set("Verification:RestoreInto", null);
        }
    }

    public async Task<IReadOnlyList<CaseSummary>> RestoresAsync(string recipeDump, Guid consoleBackupId, string consoleBackupPath, CancellationToken ct)
    {
        var jobs = settings.RestoreJobs;
        var work = Path.GetDirectoryName(recipeDump)!;
        var n = 0;
        var cases = new List<(string Name, Func<Task<RunSample>> Run)>
        {
            ("documented restore (createdb, pg_restore --verbose, no -j) of the -Z9 dump", () => RestoreCases.DocumentedAsync(runner, target, production, recipeDump, null, ct)),
            ($"documented restore with pg_restore -j {jobs} of the -Z9 dump", () => RestoreCases.DocumentedAsync(runner, target, production, recipeDump, jobs, ct)),
            ($"README by hand: zstd -d, createdb, pg_restore -j {jobs} of the console's backup", () => RestoreCases.ReadmeByHandAsync(runner, target, production, consoleBackupPath, jobs, work, ct)),
            ($"console restore into a new database (RestoreService, pg_restore -j {jobs})", () => ConsoleRestoreAsync(consoleBackupId, $"bench_restore_console_{++n}", ct)),
        };
        var samples = await RepeatAsync("Restore", cases);
        return [.. cases.Select(c => new CaseSummary(BenchmarkGroups.Restore, c.Name, samples[c.Name]))];
    }

    private async Task<RunSample> ConsoleRestoreAsync(Guid backupId, string database, CancellationToken ct)
    {
        try
        {
            await using var sampler = new ChildPeakRssSampler();
            var cpu = production.Total();
            var clock = RunClock.Start();
            var (details, phases) = await console.RestoreAsync(backupId, database, ct);
            var (wall, self, children) = clock.Stop();
            if (details.Run.CountsMatch != true)
            {
                throw new InvalidOperationException($"The console's restore did not match its manifest ({details.Run.Error}); the benchmark's figures are not valid.");
            }

            return new RunSample(wall, self + children, ToolPeakRssBytes: sampler.PeakOf("pg_restore"), ServerCpu: production.Total() - cpu, Phases: phases);
        }
        finally
        {
            await RestoreCases.DropAsync(runner, target, database);
        }
    }

    public async Task<IReadOnlyList<CaseSummary>> DrillsAsync(Guid targetId, CancellationToken ct)
    {
        var walls = new List<RunSample>();
        var rtos = new List<RunSample>();
        for (var rep = 1; rep <= settings.EffectiveVerificationReps; rep++)
        {
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Recovery drill, repetition {rep}/{settings.EffectiveVerificationReps}…"));
            var cpu = production.Total();
            var clock = RunClock.Start();
            var (rto, steps) = await console.DrillAsync(targetId, ct);
            var (wall, self, children) = clock.Stop();
            walls.Add(new RunSample(wall, self + children, ServerCpu: production.Total() - cpu, Phases: steps));
            rtos.Add(new RunSample(rto, TimeSpan.Zero));
        }

        notes.Add("The drill restores the newest verified backup into a scratch database on the target's server (standing in for a new server), counts every table " +
            "against the manifest and drops it; its RTO, as the run records it, runs from its start to the last step that counts (the drop does not).");
        return
        [
            new(BenchmarkGroups.Drill, "recovery drill, start to end (RecoveryService, as scheduled)", walls),
            new(BenchmarkGroups.Drill, "recovery drill, measured RTO (as recorded in the run)", rtos),
        ];
    }

    private async Task<Dictionary<string, List<RunSample>>> RepeatAsync(string group, IReadOnlyList<(string Name, Func<Task<RunSample>> Run)> cases)
    {
        var samples = cases.ToDictionary(c => c.Name, _ => new List<RunSample>());
        for (var rep = 1; rep <= settings.EffectiveVerificationReps; rep++)
        {
            await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{group}, repetition {rep}/{settings.EffectiveVerificationReps}…"));
            foreach (var (name, run) in cases)
            {
                samples[name].Add(await run());
            }
        }

        return samples;
    }

    private async Task<RunSample> WithServerCpuAsync(Func<Task<RunSample>> run)
    {
        var cpu = production.Total();
        var sample = await run();
        return sample with { ServerCpu = production.Total() - cpu };
    }
}
