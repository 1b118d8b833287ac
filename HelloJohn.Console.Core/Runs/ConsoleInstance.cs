using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Runs;

/// <summary>This console process as the other instances sharing its database see it: an id given at start and a
/// session-level advisory lock held on one dedicated, unpooled connection for the process's whole life. The lock is the
/// proof of life: when the process dies, its session ends (at once on the same host; within the TCP keepalive bound of
/// <see cref="RunsOptions"/> when its host vanished) and the lock with it. A lost connection is a new life: the instance
/// stops what it runs (another instance's sweep may already be ending it) and starts again under a new id.</summary>
public sealed class ConsoleInstance(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IOptionsMonitor<RunsOptions> options,
    TimeProvider time,
    ILogger<ConsoleInstance> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>First half of every instance's lock ('HJIN'); the second is the instance's <see cref="ConsoleInstanceRecord.LockKey"/>.</summary>
    public const int LockNamespace = 0x484A494E;

    /// <summary>The channel on which instances tell each other that a run moved.</summary>
    internal const string NotifyChannel = "hellojohn_console_runs";

    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource<Lease> _lease = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _watch;
    private int _disposed;
    private CancellationTokenSource? _lost;
    private string? _connectionString;

    /// <summary>One life of this instance: its id and a token cancelled when that life ends.</summary>
    public sealed record Lease(Guid InstanceId, int LockKey, CancellationToken Lost);

    public static string Host { get; } = Environment.MachineName;

    /// <summary>Raised with each notification another instance (or this one) sent on <see cref="NotifyChannel"/>.</summary>
    internal event Action<string>? Notified;

    /// <summary>The current life, once the lock is held.</summary>
    public Task<Lease> CurrentAsync(CancellationToken ct) => _lease.Task.WaitAsync(ct);

    /// <summary>The current life's id, or null while the instance is (re)connecting.</summary>
    public Guid? Id => _lease.Task.IsCompletedSuccessfully ? _lease.Task.Result.InstanceId : null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var (connection, lease) = await AcquireAsync(cancellationToken);
        _watch = WatchAsync(connection, lease, _stopping.Token);
    }

    private async Task<(NpgsqlConnection, Lease)> AcquireAsync(CancellationToken ct)
    {
        var o = options.CurrentValue;
        string source;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            source = db.Database.GetConnectionString()!;
        }

        _connectionString = source;
        var builder = new NpgsqlConnectionStringBuilder(source)
        {
            // Closing must end the session, and with it the lock: never a pooled connection.
            Pooling = false,
            ApplicationName = "hellojohn-console-instance",
            TcpKeepAlive = true,
            TcpKeepAliveTime = (int)o.KeepAliveIdle.TotalSeconds,
            TcpKeepAliveInterval = (int)o.KeepAliveInterval.TotalSeconds,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            // The server's side of the keepalives is what ends the session of a host that vanished (no effect on a
            // Unix socket, where the kernel closes it at once).
            await using (var keepalive = new NpgsqlCommand(
                $"SET tcp_keepalives_idle = {(int)o.KeepAliveIdle.TotalSeconds}; SET tcp_keepalives_interval = {(int)o.KeepAliveInterval.TotalSeconds}; SET tcp_keepalives_count = {o.KeepAliveCount}",
                connection))
            {
                await keepalive.ExecuteNonQueryAsync(ct);
            }

            var id = Guid.NewGuid();
            var now = time.GetUtcNow();
            int key;
            await using (var insert = new NpgsqlCommand(
                """INSERT INTO console_instances ("Id", "Host", "ProcessId", "StartedAt", "LastSeenAt") VALUES ($1, $2, $3, $4, $4) RETURNING "LockKey" """, connection)
            {
                Parameters = { new() { Value = id }, new() { Value = Host }, new() { Value = Environment.ProcessId }, new() { Value = now } },
            })
            {
                key = (int)(await insert.ExecuteScalarAsync(ct))!;
            }

            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({LockNamespace}, {key}); LISTEN {NotifyChannel}", connection))
            {
                await take.ExecuteNonQueryAsync(ct);
            }

            connection.Notification += (_, e) => Notified?.Invoke(e.Payload);
            var lost = new CancellationTokenSource();
            _lost = lost;
            var lease = new Lease(id, key, lost.Token);
            _lease.TrySetResult(lease);
            logger.LogInformation("Console instance {InstanceId} ({Host}, pid {Pid}) holds its lock", id, Host, Environment.ProcessId);
            return (connection, lease);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Keeps the session busy enough to notice when it is gone, and starts a new life when it is.</summary>
    private async Task WatchAsync(NpgsqlConnection connection, Lease lease, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (!await connection.WaitAsync(options.CurrentValue.HeartbeatInterval, stopping))
                {
                    await using var seen = new NpgsqlCommand("""UPDATE console_instances SET "LastSeenAt" = $1 WHERE "Id" = $2""", connection)
                    {
                        Parameters = { new() { Value = time.GetUtcNow() }, new() { Value = lease.InstanceId } },
                    };
                    await seen.ExecuteNonQueryAsync(stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Whatever ended the session (a lost connection, a terminated backend, anything unexpected): this life
                // is over, and the watch must go on to the next one, or every claim would wait for a lease for ever.
                logger.LogWarning("Console instance {InstanceId} lost its connection to the console database ({Message}); what it ran is stopped and it starts again under a new id",
                    lease.InstanceId, e.Message);
                _lease = new TaskCompletionSource<Lease>(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_lost is { } lost)
                {
                    try
                    {
                        await lost.CancelAsync();
                    }
                    catch (AggregateException callbacks)
                    {
                        logger.LogWarning(callbacks, "Stopping what console instance {InstanceId} ran raised errors", lease.InstanceId);
                    }
                }

                try
                {
                    await connection.DisposeAsync();
                }
                catch (Exception closing) when (closing is NpgsqlException or IOException or ObjectDisposedException)
                {
                    logger.LogDebug(closing, "Closing the lost session of console instance {InstanceId} failed", lease.InstanceId);
                }

                try
                {
                    (connection, lease) = await ReacquireAsync(stopping);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        await connection.DisposeAsync();
    }

    private async Task<(NpgsqlConnection, Lease)> ReacquireAsync(CancellationToken stopping)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AcquireAsync(stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                logger.LogWarning("The console database is still unreachable ({Message}); trying again", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)), time, stopping);
            }
        }
    }

    /// <summary>Whether the instance <paramref name="instanceId"/> is alive: its session holds its lock now.</summary>
    public static async Task<bool> IsAliveAsync(ConsoleDbContext db, Guid instanceId, CancellationToken ct) =>
        await db.Database.SqlQuery<bool>($"""
            SELECT EXISTS (
                SELECT 1 FROM console_instances i JOIN pg_locks l
                  ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = {LockNamespace}::oid AND l.objid = i."LockKey"::oid
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                WHERE i."Id" = {instanceId}) AS "Value"
            """).SingleAsync(ct);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            // The host's container was disposed first (a test host disposed twice): the lease went with it.
            return;
        }

        await _stopping.CancelAsync();
        if (_watch is not null)
        {
            await _watch.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (Id is { } id && _connectionString is { } source)
        {
            try
            {
                // Said with a connection of its own: at shutdown the service provider may already be going away.
                await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(source) { Pooling = false, Timeout = 5 }.ConnectionString);
                await conn.OpenAsync(cancellationToken);
                await using var stopped = new NpgsqlCommand("""UPDATE console_instances SET "StoppedAt" = $1 WHERE "Id" = $2""", conn)
                {
                    Parameters = { new() { Value = time.GetUtcNow() }, new() { Value = id } },
                };
                await stopped.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or IOException)
            {
                logger.LogDebug("Could not record that instance {InstanceId} stopped: {Message}", id, e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        _stopping.Dispose();
    }
}
