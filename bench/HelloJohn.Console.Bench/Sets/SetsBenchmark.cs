using System.Diagnostics;
using System.Globalization;
using System.Text;
using HelloJohn.Console.Bench.Cases;
using HelloJohn.Console.Bench.Generation;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Sets;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Bench.Sets;

/// <summary>One tenant count's figures: the set and the recipe loop side by side.</summary>
public sealed record SetsBenchRow(int Tenants, TimeSpan SetWall, TimeSpan RecipeWall, long SetBytes, long RecipeBytes, long ConsolePeakRssBytes, string SetStatus)
{
    public double Ratio => SetWall.TotalSeconds / RecipeWall.TotalSeconds;
}

/// <summary>A deployment of many tenant databases beside a large control plane, backed up as one set and with the
/// documented recipe, at growing tenant counts; then the Dashboard and Backups pages' server time over a month of such
/// sets. Everything it creates in the cluster and on disk is removed at the end.</summary>
public sealed class SetsBenchmark(SetsBenchCommand command, LocalPostgresCluster cluster, IPgToolRunner runner, TextWriter log)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..6];

    public async Task<string> RunAsync(CancellationToken ct = default)
    {
        var work = command.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"hjc-bench-sets-{_run}");
        Directory.CreateDirectory(work);
        var created = new List<string>();
        var loadAtStart = LoadAverage();
        try
        {
            var owner = $"bench_sets_{_run}";
            var password = Guid.NewGuid().ToString("N");
            var controlName = $"bench_cp_{_run}";
            await cluster.EnsureDatabaseAsync(controlName, owner, password, canCreateDatabases: true, ct);
            created.Add(controlName);
            var control = cluster.ConnectionFor(controlName, owner, password);
            log.WriteLine($"Generating the control plane ({command.ControlUsers:N0} users)…");
            await ScaleDataGenerator.GenerateAsync(control, command.ControlUsers, log, ct);

            var template = $"bench_tpl_{_run}";
            await cluster.EnsureDatabaseAsync(template, owner, password, canCreateDatabases: true, ct);
            created.Add(template);
            await DemoTenantDatabase.EnsureAsync(control.WithDatabase(template), "tenant", command.TenantUsers, ct);
            // CREATE DATABASE … TEMPLATE refuses a template anyone is connected to, an idle pooled connection included.
            await using (var filled = new NpgsqlConnection(control.WithDatabase(template).ConnectionString))
            {
                NpgsqlConnection.ClearPool(filled);
            }

            var consoleName = $"bench_setsconsole_{_run}";
            await cluster.EnsureDatabaseAsync(consoleName, consoleName, password, canCreateDatabases: false, ct);
            created.Add(consoleName);
            var tenantPrefix = $"bench_t{_run}_";
            await using var console = await ConsoleUnderTest.StartAsync(cluster.ConnectionFor(consoleName, consoleName, password), control, Path.Combine(work, "console"),
                new Dictionary<string, string?> { ["HELLOJOHN_DATABASE_PATTERNS"] = tenantPrefix + "*" }, ct);
            var targetId = await console.DefaultTargetAsync(ct);

            var rows = new List<SetsBenchRow>();
            var tenants = new List<string>();
            foreach (var count in command.Tenants)
            {
                while (tenants.Count < count)
                {
                    var name = $"{tenantPrefix}{tenants.Count + 1:0000}";
                    await CreateFromTemplateAsync(name, template, owner, ct);
                    created.Add(name);
                    tenants.Add(name);
                }

                log.WriteLine($"{count} tenants: the recipe loop and the set, {command.Reps} time(s) each…");
                for (var rep = 0; rep < command.Reps; rep++)
                {
                    var (recipeWall, recipeBytes) = await RecipeLoopAsync(control, [controlName, .. tenants], Path.Combine(work, "recipe"), ct);
                    var (setWall, setBytes, rss, status) = await SetAsync(console, targetId, ct);
                    rows.Add(new SetsBenchRow(count, setWall, recipeWall, setBytes, recipeBytes, rss, status));
                    log.WriteLine($"  set {setWall.TotalSeconds:0.0} s ({status}), recipe {recipeWall.TotalSeconds:0.0} s");
                }
            }

            var ui = await UiAsync(console, targetId, [controlName, .. tenants], ct);
            return Render(rows, ui, loadAtStart, LoadAverage());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using (var conn = new NpgsqlConnection(cluster.ConnectionFor("postgres").ConnectionString))
            {
                await conn.OpenAsync(CancellationToken.None);
                foreach (var name in Enumerable.Reverse(created))
                {
                    // No time limit: a loaded machine's checkpoint can make a drop take longer than the default 30 s.
                    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {LocalPostgresCluster.QuoteIdent(name)} WITH (FORCE)", conn) { CommandTimeout = 0 };
                    await drop.ExecuteNonQueryAsync(CancellationToken.None);
                }
            }

            if (command.WorkDirectory is null && Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private async Task CreateFromTemplateAsync(string name, string template, string owner, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            $"CREATE DATABASE {LocalPostgresCluster.QuoteIdent(name)} TEMPLATE {LocalPostgresCluster.QuoteIdent(template)} OWNER {LocalPostgresCluster.QuoteIdent(owner)}", conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The documented recipe as a shell loop runs it: <c>pg_dump -Fc -Z9</c> of each database, one after another.</summary>
    private async Task<(TimeSpan Wall, long Bytes)> RecipeLoopAsync(NpgsqlConnectionStringBuilder server, IReadOnlyList<string> databases, string folder, CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        foreach (var database in databases)
        {
            var file = Path.Combine(folder, $"{database}.dump");
            var result = await runner.RunAsync(new PgToolInvocation("pg_dump", ["-Fc", "-Z9", "--no-password", "--file", file, "--dbname", database])
            {
                Connection = server.WithDatabase(database),
            }, ct);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"pg_dump of {database} failed: {result.ErrorSummary}");
            }

            bytes += new FileInfo(file).Length;
        }

        clock.Stop();
        Directory.Delete(folder, recursive: true);
        return (clock.Elapsed, bytes);
    }

    private static async Task<(TimeSpan Wall, long Bytes, long PeakRss, string Status)> SetAsync(ConsoleUnderTest console, Guid targetId, CancellationToken ct)
    {
        var sets = console.Service<SetService>();
        using var sampling = new CancellationTokenSource();
        var peak = 0L;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes());
                try
                {
                    await Task.Delay(100, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        var id = await sets.RequestAsync(ConsoleUnderTest.Operator, targetId, BackupTrigger.Manual, ct);
        BackupSetListItem set;
        while (true)
        {
            set = (await sets.GetAsync(id, ct))!.Set;
            if (!set.IsActive)
            {
                break;
            }

            await Task.Delay(200, ct);
        }

        clock.Stop();
        await sampling.CancelAsync();
        await sampler;
        return (clock.Elapsed, set.SizeBytes ?? 0, peak, set.Status.ToString());
    }

    /// <summary>Fills the catalog with <see cref="SetsBenchCommand.UiDays"/> days of good sets of every database and times
    /// what the Dashboard and the Backups page ask of the Core services.</summary>
    private async Task<IReadOnlyList<(string Case, TimeSpan Median, TimeSpan Max)>> UiAsync(ConsoleUnderTest console, Guid targetId, IReadOnlyList<string> databases, CancellationToken ct)
    {
        log.WriteLine($"Filling the catalog with {command.UiDays} days of sets of {databases.Count} databases…");
        var factory = console.Service<IDbContextFactory<ConsoleDbContext>>();
        var start = DateTimeOffset.UtcNow.Date.AddDays(-command.UiDays);
        for (var day = 0; day < command.UiDays; day++)
        {
            await using var db = await factory.CreateDbContextAsync(ct);
            var at = new DateTimeOffset(start.AddDays(day).AddHours(2), TimeSpan.Zero);
            var set = new BackupSet
            {
                Id = Guid.NewGuid(),
                TargetId = targetId,
                Name = $"{SetNaming.SetName(at)}_ui",
                Status = BackupSetStatus.Succeeded,
                Trigger = BackupTrigger.Scheduled,
                CreatedAt = at,
                StartedAt = at,
                FinishedAt = at.AddMinutes(20),
                MemberCount = databases.Count,
                MembersSucceeded = databases.Count,
                SizeBytes = databases.Count * 1_000_000L,
            };
            set.CurrentRunId = set.Id;
            db.Add(set);
            db.Backups.AddRange(databases.Select(d => new BackupRecord
            {
                Id = Guid.NewGuid(),
                TargetId = targetId,
                SetId = set.Id,
                DatabaseName = d,
                FileName = SetNaming.MemberFileName(d, at, ".dump.zst") + ".ui",
                Status = BackupStatus.Succeeded,
                Trigger = BackupTrigger.Scheduled,
                CreatedAt = at,
                StartedAt = at,
                FinishedAt = at.AddMinutes(5),
                SizeBytes = 1_000_000,
                BytesWritten = 1_000_000,
                Sha256 = new string('0', 64),
                Compression = "zstd:1",
            }));
            await db.SaveChangesAsync(ct);
        }

        var overview = console.Service<DeploymentOverviewService>();
        var sets = console.Service<SetService>();
        var newest = (await sets.QueryAsync(new BackupSetQuery(0, 1, targetId), ct)).Items[0].Id;
        return
        [
            await TimeAsync("Dashboard: deployments overview", () => overview.ListAsync(ct)),
            await TimeAsync("Backups: page of 25 sets", () => sets.QueryAsync(new BackupSetQuery(0, 25), ct)),
            await TimeAsync($"Backups: one set expanded ({databases.Count} members)", () => sets.GetAsync(newest, ct)),
        ];
    }

    private async Task<(string, TimeSpan, TimeSpan)> TimeAsync<T>(string name, Func<Task<T>> call)
    {
        await call();
        var samples = new List<TimeSpan>();
        for (var i = 0; i < command.UiReps; i++)
        {
            var clock = Stopwatch.StartNew();
            await call();
            samples.Add(clock.Elapsed);
        }

        samples.Sort();
        return (name, samples[samples.Count / 2], samples[^1]);
    }

    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private string Render(IReadOnlyList<SetsBenchRow> rows, IReadOnlyList<(string Case, TimeSpan Median, TimeSpan Max)> ui, string loadAtStart, string loadAtEnd)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Backup sets: control plane of {command.ControlUsers:N0} users, tenants of {command.TenantUsers:N0} users, {Environment.ProcessorCount} cores, Sets__Parallelism default");
        text.AppendLine(c, $"Load average: at start {loadAtStart}, at end {loadAtEnd}");
        text.AppendLine();
        text.AppendLine("| Tenants | Set wall | Recipe loop wall (pg_dump -Fc -Z9) | Set / recipe | Set bytes | Recipe bytes | Console peak RSS | Set status |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var g in rows.GroupBy(r => r.Tenants))
        {
            var set = Median(g.Select(r => r.SetWall));
            var recipe = Median(g.Select(r => r.RecipeWall));
            text.AppendLine(c, $"| {g.Key} | {set.TotalSeconds:0.0} s | {recipe.TotalSeconds:0.0} s | {set.TotalSeconds / recipe.TotalSeconds:0.00}× | {g.Max(r => r.SetBytes) / 1048576.0:0.0} MiB | {g.Max(r => r.RecipeBytes) / 1048576.0:0.0} MiB | {g.Max(r => r.ConsolePeakRssBytes) / 1048576.0:0} MiB | {string.Join(", ", g.Select(r => r.SetStatus).Distinct())} |");
        }

        if (rows.Select(r => r.Tenants).Distinct().Count() >= 2)
        {
            text.AppendLine();
            text.AppendLine(c, $"Growth (least squares over the tenant counts): set {Slope(rows, r => r.SetWall) * 1000:0} ms per tenant, recipe {Slope(rows, r => r.RecipeWall) * 1000:0} ms per tenant");
        }

        text.AppendLine();
        text.AppendLine("| Page work (server) | Median | Max |");
        text.AppendLine("|---|---:|---:|");
        foreach (var (name, median, max) in ui)
        {
            text.AppendLine(c, $"| {name} | {median.TotalMilliseconds:0.0} ms | {max.TotalMilliseconds:0.0} ms |");
        }

        return text.ToString();
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static double Slope(IReadOnlyList<SetsBenchRow> rows, Func<SetsBenchRow, TimeSpan> wall)
    {
        var xs = rows.Select(r => (double)r.Tenants).ToList();
        var ys = rows.Select(r => wall(r).TotalSeconds).ToList();
        var mx = xs.Average();
        var my = ys.Average();
        var den = xs.Sum(x => (x - mx) * (x - mx));
        return den == 0 ? 0 : xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / den;
    }
}
