using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>One server's pg_receivewal, supervised: the slot is created if missing, the program restarted with a growing
/// delay when it dies, what it writes archived as it arrives, and its state recorded for every console instance.</summary>
public sealed partial class WalReceiver(
    Guid server,
    PitrWorkspace workspace,
    PitrConnections connections,
    IPgToolRunner runner,
    WalArchiver archiver,
    PitrStateStore state,
    IBaseBackupRequester baseBackups,
    PitrAlerts alerts,
    PitrOptions options,
    TimeProvider time,
    ILogger logger)
{
    private readonly string _spool = workspace.SpoolOf(server);

    /// <summary>Runs until <paramref name="ct"/> is cancelled (the console stops or this instance loses the lock).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_spool);
        var delay = options.RestartDelay;
        var slot = connections.SlotName(server);
        while (!ct.IsCancellationRequested)
        {
            var started = time.GetUtcNow();
            string reason;
            try
            {
                reason = await StreamOnceAsync(slot, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or PostgresException or IOException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                reason = e.Message;
            }

            if (time.GetUtcNow() - started > TimeSpan.FromMinutes(1))
            {
                delay = options.RestartDelay;
            }

            logger.LogWarning("WAL receiver for server {Server} stopped: {Reason}. Restarting in {Delay}", server, reason, delay);
            await state.UpdateAsync(server, s => { s.State = ReceiverState.Restarting; s.Reason = $"{reason} Restarting in {delay.TotalSeconds:0.#} s."; s.ProcessId = null; }, ct);
            try
            {
                await Task.Delay(delay, time, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxRestartDelay.Ticks));
        }

        await state.UpdateAsync(server, s => { s.State = ReceiverState.Stopped; s.Reason = s.Paused ? s.Reason : "This console instance stopped streaming (it is shutting down or another instance took over)."; s.ProcessId = null; }, CancellationToken.None);
    }

    /// <summary>One life of pg_receivewal. Returns why it ended.</summary>
    private async Task<string> StreamOnceAsync(string slot, CancellationToken ct)
    {
        var connection = await connections.ReplicationAsync(server, ct);
        var identity = await PitrConnections.IdentifyAsync(connection, ct);
        var current = await state.GetAsync(server, ct);
        if (current?.SystemIdentifier is { } known && known != identity.SystemIdentifier)
        {
            throw new InvalidOperationException(
                $"The server's system identifier is {identity.SystemIdentifier}, but this archive holds WAL of {known}: the connection points to another cluster. Nothing was streamed; fix the connection.");
        }

        await archiver.RunOnceAsync(copyPartialNow: true, ct);
        // The timeline the window follows: the newest of what this folder holds and what the catalog recorded (the
        // folder may be empty, e.g. after another instance streamed or everything was archived).
        var knownTimeline = (SpoolTimeline(), current?.Timeline) switch
        {
            ({ } folder, { } recorded) => Math.Max(folder, recorded),
            ({ } folder, null) => folder,
            (null, var recorded) => recorded,
        };
        if (knownTimeline is { } tl && tl > 0 && identity.Timeline > tl)
        {
            ClearSpool();
            await RestartWindowAsync($"The server moved from timeline {tl} to {identity.Timeline} (a promotion or switchover).", ct);
        }

        if (await SlotStatusAsync(connection, slot, ct) == "lost")
        {
            await DropSlotAsync(connection, slot, ct);
            ClearSpool();
            var why = $"The replication slot {slot} was lost: the server removed WAL the console had not received (max_slot_wal_keep_size).";
            await RestartWindowAsync(why, ct);
            await alerts.SlotLostAsync(server, slot, why);
        }

        if (await SlotRestartAsync(connection, slot, ct) is { } restart && SpoolStart() is { } start && start < restart.Segment)
        {
            // Another instance streamed past what this folder holds (it took over while this one was stopped or dead):
            // pg_receivewal would ask for WAL from where the folder ends, which the server keeps no longer for the slot.
            // What the folder held is archived above; the stream starts afresh where the slot is.
            logger.LogInformation("The WAL folder of server {Server} ends in segment {Start}, behind the slot {Slot} (at {Restart}): streaming from the slot",
                server, start, slot, restart);
            ClearSpool();
        }

        var create = await runner.RunAsync(new PgToolInvocation("pg_receivewal", ["--slot", slot, "--create-slot", "--if-not-exists"]) { Connection = connection }, ct);
        if (!create.Succeeded)
        {
            return $"Could not create the replication slot {slot}: {create.ErrorSummary}";
        }

        await state.UpdateAsync(server, s =>
        {
            s.SystemIdentifier = identity.SystemIdentifier;
            s.Timeline = identity.Timeline;
            s.SlotName = slot;
            s.State = ReceiverState.Starting;
            s.Reason = null;
            s.Instance = Environment.MachineName + ":" + Environment.ProcessId;
        }, ct);
        await baseBackups.EnsureOneAsync(server, "first base backup of the window", ct);

        using var streaming = CancellationTokenSource.CreateLinkedTokenSource(ct);
        List<string> args = ["-D", _spool, "--slot", slot, "--no-loop", "--verbose", "--status-interval", ((int)Math.Max(1, options.StatusInterval.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (options.Synchronous)
        {
            args.Add("--synchronous");
        }

        var process = runner.RunAsync(new PgToolInvocation("pg_receivewal", args)
        {
            Connection = connection,
            OnStarted = pid => _ = state.UpdateAsync(server, s => s.ProcessId = pid, CancellationToken.None),
            OnStandardErrorLine = line =>
            {
                if (line.Contains("starting log streaming", StringComparison.Ordinal))
                {
                    _ = state.UpdateAsync(server, s => { s.State = ReceiverState.Streaming; s.Reason = null; }, CancellationToken.None);
                }
            },
        }, streaming.Token);

        var archiving = ArchiveWhileRunningAsync(process, streaming.Token);
        var result = await process;
        await archiving;
        await archiver.RunOnceAsync(copyPartialNow: true, ct);
        if (SlotGone().IsMatch(result.StandardError) && await SlotStatusAsync(connection, slot, ct) is "lost" or null)
        {
            return $"The replication slot {slot} is lost or gone ({result.ErrorSummary}).";
        }

        return $"pg_receivewal exited with code {result.ExitCode}: {result.ErrorSummary}";
    }

    private async Task ArchiveWhileRunningAsync(Task running, CancellationToken ct)
    {
        while (!running.IsCompleted && !ct.IsCancellationRequested)
        {
            try
            {
                var progress = await archiver.RunOnceAsync(copyPartialNow: false, ct);
                await state.RecordProgressAsync(server, progress, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Archiving WAL of server {Server} failed; trying again", server);
            }

            await ((Task)Task.WhenAny(running, Task.Delay(options.ArchiveInterval, time, ct))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RestartWindowAsync(string why, CancellationToken ct)
    {
        logger.LogWarning("Point-in-time window of server {Server} restarts: {Why}", server, why);
        await state.UpdateAsync(server, s => { s.WindowRestartedAt = time.GetUtcNow(); s.WindowRestartReason = why; }, ct);
        await baseBackups.RequestAsync(server, why, ct, startsAfterNow: true);
    }

    private List<WalFileName> SpoolSegments() => Directory.EnumerateFiles(_spool)
        .Select(p => WalFileName.TryParse(Path.GetFileName(p), out var f) ? f : (WalFileName?)null)
        .Where(f => f is { Kind: not WalFileKind.History })
        .Select(f => f!.Value)
        .ToList();

    private int? SpoolTimeline()
    {
        var segments = SpoolSegments();
        return segments.Count == 0 ? null : segments.Max(f => f.Timeline);
    }

    /// <summary>The segment pg_receivewal starts from with this folder: the newest partial one, or the one after the
    /// newest closed one; null for an empty folder (it then starts where the slot is).</summary>
    private long? SpoolStart()
    {
        var segments = SpoolSegments();
        if (segments.Count == 0)
        {
            return null;
        }

        var newest = segments.MaxBy(f => (f.Segment, f.Kind == WalFileKind.Segment ? 1 : 0));
        return newest.Kind == WalFileKind.Partial ? newest.Segment : newest.Segment + 1;
    }

    /// <summary>Removes received segments (already archived by the pass before) so pg_receivewal starts afresh from
    /// the server's position; history files stay.</summary>
    private void ClearSpool()
    {
        archiver.Reset();
        foreach (var path in Directory.EnumerateFiles(_spool))
        {
            if (!path.EndsWith(".history", StringComparison.Ordinal))
            {
                File.Delete(path);
            }
        }
    }

    internal static async Task<string?> SlotStatusAsync(NpgsqlConnectionStringBuilder connection, string slot, CancellationToken ct) =>
        await SlotQueryAsync(connection, "SELECT coalesce(wal_status, 'unused') FROM pg_replication_slots WHERE slot_name = $1", slot, ct) as string;

    /// <summary>Where the server keeps WAL from for the slot; null when the slot is missing or holds none yet.</summary>
    private static async Task<Lsn?> SlotRestartAsync(NpgsqlConnectionStringBuilder connection, string slot, CancellationToken ct) =>
        await SlotQueryAsync(connection, "SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = $1", slot, ct) is string text ? Lsn.Parse(text) : null;

    private static Task DropSlotAsync(NpgsqlConnectionStringBuilder connection, string slot, CancellationToken ct) =>
        SlotQueryAsync(connection, "SELECT pg_drop_replication_slot($1)", slot, ct);

    private static async Task<object?> SlotQueryAsync(NpgsqlConnectionStringBuilder connection, string sql, string slot, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = slot } } };
        return await cmd.ExecuteScalarAsync(ct);
    }

    [GeneratedRegex("has already been removed|can no longer get changes|replication slot .* does not exist|invalidated", RegexOptions.IgnoreCase)]
    private static partial Regex SlotGone();
}
