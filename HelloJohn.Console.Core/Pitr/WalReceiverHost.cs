using System.Collections.Concurrent;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using HelloJohn.Console.Core.Runs;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Starts one supervised <see cref="WalReceiver"/> per protected server. Several console instances may share
/// the console database: an advisory lock there makes exactly one of them run a server's receiver; when that instance
/// dies its lock goes with its session and another takes over at its next look.</summary>
public sealed class WalReceiverHost(
    PitrConnections connections,
    ConsoleLocks locks,
    PitrWorkspace workspace,
    IPgToolRunner runner,
    PitrArchiveStores stores,
    PitrStateStore state,
    IBaseBackupRequester baseBackups,
    PitrAlerts alerts,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IOptions<PitrOptions> options,
    TimeProvider time,
    ILoggerFactory loggers,
    Hosting.ConsoleWorkFolder workFolder) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, Running> _running = new();
    private readonly ILogger _logger = loggers.CreateLogger<WalReceiverHost>();

    private sealed record Running(CancellationTokenSource Stop, Task Task, ConsoleLock Lock, string Address);

    /// <summary>Servers whose receiver runs in this process.</summary>
    public IReadOnlyCollection<Guid> RunningHere => _running.Keys.ToList();

    public static string LockName(Guid server) => $"pitr-receiver:{server:N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken);
                await alerts.CheckAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Looking for servers to stream WAL from failed; trying again");
            }

            try
            {
                await Task.Delay(options.Value.SupervisorInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(_running.Keys.ToList().Select(StopAsync));
    }

    /// <summary>Starts receivers for protected servers that have none anywhere, stops those no longer wanted here.</summary>
    public async Task ReconcileAsync(CancellationToken ct)
    {
        var wanted = (await connections.ProtectedAsync(ct)).Select(t => t.Id).ToHashSet();
        if (wanted.Count == 0 && _running.IsEmpty)
        {
            return;
        }

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var paused = await db.Set<PitrServerState>().AsNoTracking().Where(s => s.Paused).Select(s => s.TargetId).ToListAsync(ct);
            wanted.ExceptWith(paused);
        }

        foreach (var (server, running) in _running.ToList())
        {
            // A target given a new connection (a promoted copy, a moved server) is streamed from anew.
            if (!wanted.Contains(server) || running.Task.IsCompleted || !await running.Lock.IsAliveAsync(ct) ||
                (await connections.ReplicationAsync(server, ct)).Describe() != running.Address)
            {
                await StopAsync(server);
            }
        }

        foreach (var server in wanted.Where(s => !_running.ContainsKey(s)))
        {
            var held = await locks.TryAcquireAsync(LockName(server), ct);
            if (held is null)
            {
                continue;
            }

            var stop = new CancellationTokenSource();
            var receiver = Create(server);
            var address = (await connections.ReplicationAsync(server, ct)).Describe();
            _running[server] = new Running(stop, Task.Run(() => receiver.RunAsync(stop.Token), CancellationToken.None), held, address);
            _logger.LogInformation("Streaming WAL of server {Server} from this instance", server);
        }
    }

    private WalReceiver Create(Guid server)
    {
        var o = options.Value;
        var logger = loggers.CreateLogger<WalReceiver>();
        var archiver = new WalArchiver(server, workspace.SpoolOf(server), stores, new WalDump(runner, workFolder), dbFactory, o, time, logger);
        return new WalReceiver(server, workspace, connections, runner, archiver, state, baseBackups, alerts, o, time, logger);
    }

    private async Task StopAsync(Guid server)
    {
        if (!_running.TryRemove(server, out var running))
        {
            return;
        }

        await running.Stop.CancelAsync();
        try
        {
            await running.Task;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "The WAL receiver of server {Server} ended with an error", server);
        }
        finally
        {
            await running.Lock.DisposeAsync();
            running.Stop.Dispose();
        }
    }
}
