using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Tests.Notifications;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>A cluster of its own (the shared one must not carry replication slots) with the demo database, and the
/// real console protecting it with WAL streaming on. The cluster also holds the console's database, as the embedded
/// default does. Shared by the tests of one class: each test leaves the server streaming.</summary>
public class PitrFixture : IAsyncLifetime
{
    public static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    public static readonly Actor Admin = new("admin-1", "admin@example.test", [ConsoleRoles.Admin]);
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private readonly List<string> _restoredDirectories = [];

    public const string ConsoleUrl = "https://pitr.example.test";

    public PostgresClusterFixture Postgres { get; } = new();
    public ConsoleAppFactory App { get; private set; } = default!;
    public Guid Server { get; private set; }

    public virtual async Task InitializeAsync()
    {
        await Postgres.InitializeAsync();
        App = new ConsoleAppFactory(Postgres);
        // The environment's target is a managed provider here, so the stored target below is the only one streaming.
        App.Settings["HELLOJOHN_PROVIDER"] = "Neon";
        App.Settings["Pitr:Enabled"] = "true";
        App.Settings["Pitr:SupervisorInterval"] = "00:00:01";
        App.Settings["Pitr:PartialCopyInterval"] = "00:00:01";
        App.Settings["Pitr:RestartDelay"] = "00:00:00.500";
        App.Settings["Pitr:BaseBackupCron"] = "";
        App.Settings["Pitr:StreamingAlarmAfter"] = "00:00:02";
        App.Settings["HELLOJOHN_CONSOLE_URL"] = ConsoleUrl;
        App.Settings["Pitr:SlotAlarmBytes"] = (64L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await App.InitializeAsync();
        _ = App.Server;
        var source = Postgres.Cluster.ConnectionFor(PostgresClusterFixture.DemoDatabase);
        Server = await App.Service<TargetService>().AddStoredAsync("pitr", source.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        try
        {
            // Every test starts from a window a restore can reach: streaming, a stored base backup and WAL after it.
            await WaitForAsync("a first base backup, streaming and a recoverable window", async () =>
            {
                var o = await OverviewAsync();
                return o.State?.State == ReceiverState.Streaming && o.BaseBackups.Any(b => b.Status == BaseBackupStatus.Succeeded) && o.Window.Current is not null;
            });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} {await DescribeAsync()}", e);
        }
    }

    /// <summary>What the receiver, the base backups and the window are now, and the console's recent point-in-time log
    /// lines: said when a wait gives up, so a failure shows where the window stood.</summary>
    public async Task<string> DescribeAsync()
    {
        var o = await OverviewAsync();
        var timelines = o.Window.Timelines.Select(t =>
            $"timeline {t.Timeline} ({t.Files} files; ranges {string.Join(", ", t.Ranges.Select(r => $"{r.From:HH:mm:ss.fff}–{r.To:HH:mm:ss.fff} segments {r.FirstSegment}–{r.LastSegment}"))}; gaps {string.Join(", ", t.Gaps.Select(g => $"{g.From}–{g.To}{(g.Incomplete ? " incomplete" : "")}"))})");
        var lines = App.Logs.Lines.Where(l => l.Contains("Pitr", StringComparison.Ordinal) || l.Contains("pg_", StringComparison.Ordinal) || l.Contains("WAL", StringComparison.Ordinal)).TakeLast(25);
        return $"Receiver: {o.State?.State} timeline {o.State?.Timeline}, newest commit {o.State?.NewestCommitAt:HH:mm:ss.fff}, reason {o.State?.Reason}; " +
            $"base backups: {string.Join(", ", o.BaseBackups.Select(b => $"{b.Status} timeline {b.Timeline} consistent {b.ConsistentAt:HH:mm:ss.fff} {b.Error}"))}; " +
            $"window: {string.Join("; ", timelines)}\n{string.Join('\n', lines)}";
    }

    /// <summary><see cref="WaitForAsync"/>, saying where the window stood when it gives up.</summary>
    public async Task WaitWithStateAsync(string what, Func<Task<bool>> condition)
    {
        try
        {
            await WaitForAsync(what, condition);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} {await DescribeAsync()}", e);
        }
    }

    /// <summary>A webhook channel of its own for <paramref name="kinds"/>; returns the path its messages arrive at.</summary>
    public async Task<string> HookAsync(WebhookReceiver receiver, params NotificationEventKind[] kinds)
    {
        var path = $"/pitr/{Guid.NewGuid():N}";
        await App.Service<NotificationChannelService>().CreateAsync(DeliveryWait.Admin,
            new ChannelDraft($"pitr-{Guid.NewGuid():N}"[..20], NotificationChannelKind.Webhook, true, kinds) { Url = receiver.Url(path) }, CancellationToken.None);
        return path;
    }

    public static List<string> Titles(WebhookReceiver receiver, string path) => [.. receiver.Bodies(path).Select(b => b.GetProperty("title").GetString()!)];

    public Task<PitrOverview> OverviewAsync() => App.Service<PitrService>().GetOverviewAsync(Server, CancellationToken.None);

    /// <summary>The protected server as it is now (a test may move the target to a promoted copy).</summary>
    public Task<NpgsqlConnectionStringBuilder> SourceAsync() => App.Service<PitrConnections>().ReplicationAsync(Server, CancellationToken.None);

    public async Task<T> QueryAsync<T>(string sql)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder((await SourceAsync()).ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The server's clock, as commit times in the WAL are.</summary>
    public async Task<DateTimeOffset> ServerNowAsync() => new(await QueryAsync<DateTime>("SELECT clock_timestamp()"), TimeSpan.Zero);

    /// <summary>Waits until the console holds a commit made at or after <paramref name="since"/> and the window shown
    /// reaches it.</summary>
    public Task WaitForStreamedAsync(DateTimeOffset since) =>
        WaitForAsync($"a streamed commit at or after {since:HH:mm:ss.fff} in the window", async () =>
        {
            var o = await OverviewAsync();
            return o.State?.NewestCommitAt >= since && o.Window.Current?.To >= since;
        });

    public static async Task WaitForAsync(string what, Func<Task<bool>> condition)
    {
        var until = DateTimeOffset.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > until)
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Where the console's jobs stand, for a run that stays queued: the job's Hangfire state and queue entry,
    /// what the workers are processing, the active runs, whether this instance holds its lease, and its recent log.</summary>
    private async Task<string> JobsAsync(string? jobId)
    {
        var lines = new List<string> { $"Instance lease: {(App.Service<HelloJohn.Console.Core.Runs.ConsoleInstance>().Id is { } id ? id.ToString() : "none (reconnecting)")}" };
        try
        {
            await using var db = await App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
            var conn = (Npgsql.NpgsqlConnection)db.Database.GetDbConnection();
            await conn.OpenAsync();
            async Task QueryAsync(string title, string sql)
            {
                await using var cmd = new Npgsql.NpgsqlCommand(sql, conn);
                if (jobId is not null && long.TryParse(jobId, out var n))
                {
                    cmd.Parameters.AddWithValue(n);
                }

                await using var reader = await cmd.ExecuteReaderAsync();
                var rows = new List<string>();
                while (await reader.ReadAsync())
                {
                    rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
                }

                lines.Add($"{title}: {(rows.Count == 0 ? "none" : string.Join("; ", rows))}");
            }

            if (jobId is not null && long.TryParse(jobId, out _))
            {
                await QueryAsync($"Job {jobId}", "SELECT statename, createdat FROM hangfire.job WHERE id = $1");
                await QueryAsync("Its queue entry", "SELECT queue, fetchedat FROM hangfire.jobqueue WHERE jobid = $1");
            }

            await QueryAsync("Processing", "SELECT id, left(invocationdata::text, 120), createdat FROM hangfire.job WHERE statename = 'Processing'");
            await QueryAsync("Queue", "SELECT queue, count(*), count(fetchedat) FROM hangfire.jobqueue GROUP BY queue");
            await QueryAsync("Servers", "SELECT id, lastheartbeat FROM hangfire.server");
            await QueryAsync("Active runs", """SELECT "Kind", "Status", "Phase", "CreatedAt", "OwnerInstanceId" FROM runs WHERE "Status" IN ('Queued', 'Running')""");
        }
        catch (Exception e)
        {
            lines.Add($"(could not read the job tables: {e.Message})");
        }

        lines.AddRange(App.Logs.Lines.Where(l => l.Contains("instance", StringComparison.OrdinalIgnoreCase) || l.Contains("Hangfire", StringComparison.Ordinal)).TakeLast(15));
        return string.Join('\n', lines);
    }

    /// <summary>A new directory name for a restore; the restored server is stopped and removed with the fixture.</summary>
    public string NewRestoreDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"hjc-pitr-restore-{Guid.NewGuid():N}"[..30]);
        _restoredDirectories.Add(dir);
        return dir;
    }

    public async Task<PitrRestoreRecord> RestoreAsync(PitrRestoreRequest request)
    {
        var pitr = App.Service<PitrService>();
        var id = await pitr.RequestRestoreAsync(Operator, request, CancellationToken.None);
        PitrRestoreRecord? record = null;
        try
        {
            await WaitForAsync("the restore to finish", async () =>
            {
                record = await pitr.GetRestoreAsync(id, CancellationToken.None);
                return record!.Run!.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled;
            });
        }
        catch (TimeoutException e)
        {
            var log = Path.Combine(request.DataDirectory!, PointInTimeRestoreEngine.LogFile);
            var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(15)) : "(no server log)";
            throw new TimeoutException($"{e.Message} Phase: {record?.Run?.Phase}. Server log:\n{tail}\n{await JobsAsync(record?.Run?.JobId)}", e);
        }
        Assert.True(record!.Run!.Status == RunStatus.Succeeded, record.Run.Error);
        return record;
    }

    public async Task<long> CountOnRestoredAsync(PitrRestoreRecord restore, string table)
    {
        var source = await SourceAsync();
        var b = new NpgsqlConnectionStringBuilder(source.ConnectionString) { Host = "127.0.0.1", Port = restore.Port, Pooling = false };
        await using var conn = new NpgsqlConnection(b.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {LocalPostgresCluster.QuoteIdent(table)}", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task<IReadOnlyList<WalArchiveFile>> CataloguedAsync()
    {
        await using var db = await App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Set<WalArchiveFile>().AsNoTracking().Where(w => w.TargetId == Server).ToListAsync();
    }

    public async Task StopRestoredAsync(string directory)
    {
        if (File.Exists(Path.Combine(directory, "postmaster.pid")))
        {
            await Postgres.Runner.RunAsync(new PgToolInvocation("pg_ctl", ["-D", directory, "-m", "immediate", "-w", "stop"]) { AsServerUser = true });
        }
    }

    public virtual async Task DisposeAsync()
    {
        await App.DisposeAsync();
        foreach (var dir in _restoredDirectories)
        {
            await StopRestoredAsync(dir);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        await Postgres.DisposeAsync();
    }
}
