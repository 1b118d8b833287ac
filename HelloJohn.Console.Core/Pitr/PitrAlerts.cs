using System.Collections.Concurrent;
using System.Globalization;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Tells people when a protected server's WAL stops reaching the console or its slot puts the server at risk,
/// once per condition (however many supervisor ticks see it), with an all-clear when it ends; and when a slot was lost.
/// Checked after each supervisor pass by one console instance at a time. Never throws into the supervisor.</summary>
public sealed class PitrAlerts(
    PitrConnections connections,
    PitrStateStore state,
    ConsoleLocks locks,
    NotificationCenter center,
    IOptionsMonitor<PitrOptions> options,
    TimeProvider time,
    ILogger<PitrAlerts> logger)
{
    public const string LockName = "pitr-alerts";

    /// <summary>When this instance first saw each server not streaming; an outage shorter than
    /// <see cref="PitrOptions.StreamingAlarmAfter"/> is a restart, not an alarm.</summary>
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _notStreamingSince = new();

    public async Task CheckAsync(CancellationToken ct)
    {
        var servers = await connections.ProtectedAsync(ct);
        if (servers.Count == 0)
        {
            return;
        }

        await using var held = await locks.TryAcquireAsync(LockName, ct);
        if (held is null)
        {
            return;
        }

        foreach (var server in servers)
        {
            try
            {
                await CheckStreamingAsync(server, ct);
                await CheckSlotAsync(server, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Checking WAL streaming of {Server} for notifications failed; checked again next pass", server.Name);
            }
        }
    }

    private async Task CheckStreamingAsync(TargetSummary server, CancellationToken ct)
    {
        var s = await state.GetAsync(server.Id, ct);
        var condition = $"wal-streaming-stopped:{server.Id:N}";
        var now = time.GetUtcNow();
        if (s is null || s.Paused || s.State is ReceiverState.Streaming)
        {
            _notStreamingSince.TryRemove(server.Id, out _);
            var why = s?.Paused == true ? $"streaming was stopped on purpose ({s.Reason})" : "WAL arrives again";
            await center.ConditionClearedAsync(condition, Event(NotificationEventKind.WalStreamingStopped, NotificationSeverity.Info, server,
                $"WAL streaming of {server.Name} resumed", $"The console receives {server.Name}'s WAL again: {why}.", "Nothing was changed by the console."), ct);
            return;
        }

        var since = _notStreamingSince.GetOrAdd(server.Id, now);
        var after = options.CurrentValue.StreamingAlarmAfter;
        if (now - since < after)
        {
            return;
        }

        var received = s.LastReceivedAt is { } at ? $"The last WAL arrived {at:u}; commits since then are not protected. " : "";
        await center.ConditionSeenAsync(condition, Event(NotificationEventKind.WalStreamingStopped, NotificationSeverity.Critical, server,
            $"WAL streaming of {server.Name} stopped",
            $"The console has not streamed {server.Name}'s WAL for more than {Recovery.RecoveryDurations.Describe(after)} ({s.State}): {s.Reason ?? "no reason was given"} {received}The receiver keeps trying; the point-in-time panel shows why.",
            "The server and the WAL and base backups already archived were not changed; the replication slot keeps the server's WAL until streaming resumes.")
            with { Facts = RunNotices.Facts(("state", s.State.ToString()), ("lastReceivedAt", s.LastReceivedAt?.ToString("O", CultureInfo.InvariantCulture)), ("slot", s.SlotName)) }, ct);
    }

    private async Task CheckSlotAsync(TargetSummary server, CancellationToken ct)
    {
        var slot = connections.SlotName(server.Id);
        (string? Status, long? Retained) found;
        try
        {
            found = await SlotAsync(await connections.ReplicationAsync(server.Id, ct), slot, ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The server cannot be asked: not streaming says so once it lasts.
            logger.LogDebug("The slot of {Server} could not be read: {Message}", server.Name, e.Message);
            return;
        }

        var alarm = options.CurrentValue.SlotAlarmBytes;
        var condition = $"wal-slot-at-risk:{server.Id:N}";
        var over = found.Retained > alarm;
        if (!over && found.Status is not ("unreserved" or "lost"))
        {
            await center.ConditionClearedAsync(condition, Event(NotificationEventKind.SlotAtRisk, NotificationSeverity.Info, server,
                $"Replication slot of {server.Name} is safe again",
                $"Slot {slot} makes the server keep {(found.Retained is { } r ? PitrReadiness.Bytes(r) : "no")} WAL, under the alarm of {PitrReadiness.Bytes(alarm)}.", "Nothing was changed by the console."), ct);
            return;
        }

        var text = over
            ? $"Slot {slot} makes {server.Name} keep {PitrReadiness.Bytes(found.Retained!.Value)} of WAL, above the alarm of {PitrReadiness.Bytes(alarm)}: the console lags behind the server. If it stays away, the server's disk fills (or, with max_slot_wal_keep_size, the slot is lost and the window restarts)."
            : $"Slot {slot} of {server.Name} is {found.Status}: the server is about to remove, or removed, WAL the console has not received.";
        await center.ConditionSeenAsync(condition, Event(NotificationEventKind.SlotAtRisk, NotificationSeverity.Critical, server,
            $"Replication slot of {server.Name} at risk", text, "Neither the slot nor the server was changed; Point-in-time → Readiness shows how to give the space back.")
            with { Facts = RunNotices.Facts(("slot", slot), ("walStatus", found.Status), ("retainedBytes", found.Retained?.ToString(CultureInfo.InvariantCulture)), ("alarmBytes", alarm.ToString(CultureInfo.InvariantCulture))) }, ct);
    }

    /// <summary>The receiver found its slot lost and starts the window again: told at once, every time it happens.</summary>
    public async Task SlotLostAsync(Guid serverId, string slot, string why)
    {
        try
        {
            var server = (await connections.ProtectedAsync(CancellationToken.None)).FirstOrDefault(t => t.Id == serverId);
            await center.RaiseAsync(new NotificationEvent(NotificationEventKind.SlotAtRisk, NotificationSeverity.Critical,
                $"Replication slot of {server?.Name ?? "a server"} lost; the point-in-time window restarts", why + " A new base backup is taken; the window starts again at it.")
            {
                TargetId = serverId, TargetName = server?.Name, LinkPath = ConsoleLinks.PointInTime(serverId),
                NotTouched = "The WAL and base backups already archived stay restorable up to the gap.",
                Facts = RunNotices.Facts(("slot", slot), ("walStatus", "lost")),
            });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The lost-slot notification for server {Server} could not be raised", serverId);
        }
    }

    private static NotificationEvent Event(NotificationEventKind kind, NotificationSeverity severity, TargetSummary server, string title, string text, string notTouched) =>
        new(kind, severity, title, text) { TargetId = server.Id, TargetName = server.Name, LinkPath = ConsoleLinks.PointInTime(server.Id), NotTouched = notTouched };

    private static async Task<(string? Status, long? Retained)> SlotAsync(NpgsqlConnectionStringBuilder connection, string slot, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false, Timeout = 15 }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT wal_status, (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END - restart_lsn)::bigint
            FROM pg_replication_slots WHERE slot_name = $1
            """, conn) { Parameters = { new() { Value = slot } } };
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? (r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1)) : (null, null);
    }
}
