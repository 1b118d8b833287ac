using System.Globalization;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

public enum ReadinessLevel
{
    Green,
    Amber,
    Red,
}

/// <summary>One line of the readiness panel: what was found, why it matters, and the exact lines that fix it.</summary>
public sealed record ReadinessCheck(string Name, ReadinessLevel Level, string Message, IReadOnlyList<string> Fix);

/// <summary>What the server says about itself, read with ordinary queries and one replication handshake.</summary>
public sealed record ReadinessFacts
{
    public required string Role { get; init; }
    public required string WalLevel { get; init; }
    public int MaxWalSenders { get; init; }
    public int MaxReplicationSlots { get; init; }
    /// <summary>max_slot_wal_keep_size in bytes; null for -1 (no limit).</summary>
    public long? MaxSlotWalKeepBytes { get; init; }
    public bool RoleCanReplicate { get; init; }
    /// <summary>Why a replication connection was refused (pg_hba.conf, role), or null when it was accepted.</summary>
    public string? ReplicationRefused { get; init; }
    public required string SlotName { get; init; }
    public bool SlotExists { get; init; }
    public bool SlotActive { get; init; }
    public string? SlotWalStatus { get; init; }
    public long? SlotRetainedBytes { get; init; }
    public string ArchiveMode { get; init; } = "off";
    public long ArchiverFailedCount { get; init; }
    public DateTimeOffset? ArchiverLastFailedAt { get; init; }
    public DateTimeOffset? ArchiverLastArchivedAt { get; init; }
    public string? ArchiverLastFailedWal { get; init; }
}

/// <summary>The verdict: the checks, the worst level, and whether the slot alarm is raised.</summary>
public sealed record PitrReadinessReport(IReadOnlyList<ReadinessCheck> Checks, bool SlotAlarm, DateTimeOffset CheckedAt)
{
    public ReadinessLevel Level => Checks.Count == 0 ? ReadinessLevel.Green : Checks.Max(c => c.Level);
}

public static class PitrReadiness
{
    /// <summary>Pure: facts to checks. <paramref name="alarmBytes"/> is <see cref="PitrOptions.SlotAlarmBytes"/>.</summary>
    public static PitrReadinessReport Evaluate(ReadinessFacts f, long alarmBytes, DateTimeOffset now)
    {
        var checks = new List<ReadinessCheck>();
        const string Restart = "-- then restart PostgreSQL (these settings take effect at start only)";
        checks.Add(f.WalLevel is "replica" or "logical"
            ? new("wal_level", ReadinessLevel.Green, $"wal_level is {f.WalLevel}: the WAL holds what a restore needs.", [])
            : new("wal_level", ReadinessLevel.Red, $"wal_level is {f.WalLevel}: WAL cannot be streamed or used for point-in-time recovery.",
                ["ALTER SYSTEM SET wal_level = 'replica';", "ALTER SYSTEM SET max_wal_senders = 10;", Restart]));
        checks.Add(f.MaxWalSenders >= 3
            ? new("max_wal_senders", ReadinessLevel.Green, $"max_wal_senders is {f.MaxWalSenders}.", [])
            : new("max_wal_senders", f.MaxWalSenders == 0 ? ReadinessLevel.Red : ReadinessLevel.Amber,
                $"max_wal_senders is {f.MaxWalSenders}: the console needs 3 at once (its WAL stream, and a base backup's data and WAL).",
                ["ALTER SYSTEM SET max_wal_senders = 10;", Restart]));
        if (f.MaxReplicationSlots == 0)
        {
            checks.Add(new("max_replication_slots", ReadinessLevel.Red, "max_replication_slots is 0: the console cannot keep its place in the WAL.",
                ["ALTER SYSTEM SET max_replication_slots = 10;", Restart]));
        }

        checks.Add(f.RoleCanReplicate
            ? new("replication permission", ReadinessLevel.Green, $"Role {f.Role} may replicate.", [])
            : new("replication permission", ReadinessLevel.Red, $"Role {f.Role} has no REPLICATION attribute: it cannot stream WAL or take base backups.",
                [$"ALTER ROLE {Quote(f.Role)} WITH REPLICATION;", "-- or give the console a role that has it: Pitr__ReplicationUrl=postgres://replicator:…@host:5432/hellojohn"]));
        if (f.RoleCanReplicate && f.ReplicationRefused is { } refused)
        {
            checks.Add(new("replication connection", ReadinessLevel.Red, $"The server refused a replication connection: {refused}",
                [$"host  replication  {f.Role}  <console's address>/32  scram-sha-256   # in pg_hba.conf", "SELECT pg_reload_conf();"]));
        }

        checks.Add(SlotCheck(f, alarmBytes));
        var alarm = f.SlotRetainedBytes is { } kept && kept > alarmBytes;
        checks.Add(f.MaxSlotWalKeepBytes is { } limit
            ? new("max_slot_wal_keep_size", ReadinessLevel.Green, $"max_slot_wal_keep_size is {Bytes(limit)}: a stopped console cannot make the server keep more; the slot is lost instead and the console starts a new window with a base backup.", [])
            : new("max_slot_wal_keep_size", ReadinessLevel.Amber, "max_slot_wal_keep_size is -1 (no limit): if the console stops, the server keeps WAL for it until its disk is full.",
                ["ALTER SYSTEM SET max_slot_wal_keep_size = '10GB';", "SELECT pg_reload_conf();"]));
        checks.Add(ArchiverCheck(f));
        return new PitrReadinessReport(checks, alarm, now);
    }

    private static ReadinessCheck SlotCheck(ReadinessFacts f, long alarmBytes)
    {
        if (!f.SlotExists)
        {
            return new("replication slot", ReadinessLevel.Amber, $"Slot {f.SlotName} does not exist yet: the console creates it when it starts streaming.", []);
        }

        var kept = f.SlotRetainedBytes is { } b ? $" It makes the server keep {Bytes(b)} of WAL." : "";
        if (f.SlotRetainedBytes > alarmBytes)
        {
            return new("replication slot", ReadinessLevel.Red,
                $"ALARM: slot {f.SlotName} makes the server keep {Bytes(f.SlotRetainedBytes.Value)} of WAL (alarm above {Bytes(alarmBytes)}){(f.SlotActive ? "" : ": nothing is streaming from it")}. If the console stays away, the server's disk fills.",
                ["-- start the console's receiver again (Point-in-time → Resume streaming), or, to give the space back now:", $"SELECT pg_drop_replication_slot('{f.SlotName}');", "ALTER SYSTEM SET max_slot_wal_keep_size = '10GB'; SELECT pg_reload_conf();"]);
        }

        return f.SlotWalStatus switch
        {
            "lost" => new("replication slot", ReadinessLevel.Red, $"Slot {f.SlotName} is lost: the server removed WAL the console had not received. The console drops it, streams anew and takes a base backup; the window starts again there.", []),
            "unreserved" => new("replication slot", ReadinessLevel.Red, $"Slot {f.SlotName} is about to be lost (wal_status unreserved): it is behind by more than max_slot_wal_keep_size.{kept}", []),
            "extended" => new("replication slot", ReadinessLevel.Amber, $"Slot {f.SlotName} keeps WAL beyond max_wal_size (wal_status extended).{kept}", []),
            _ when !f.SlotActive => new("replication slot", ReadinessLevel.Amber, $"Slot {f.SlotName} exists but nothing streams from it now.{kept}", []),
            _ => new("replication slot", ReadinessLevel.Green, $"Slot {f.SlotName} is streaming (wal_status {f.SlotWalStatus ?? "reserved"}).{kept}", []),
        };
    }

    private static ReadinessCheck ArchiverCheck(ReadinessFacts f)
    {
        if (f.ArchiveMode == "off")
        {
            return new("archive_command", ReadinessLevel.Green, "archive_mode is off: not needed, the console streams the WAL itself.", []);
        }

        var failing = f.ArchiverFailedCount > 0 && f.ArchiverLastFailedAt is { } failedAt && (f.ArchiverLastArchivedAt is null || failedAt > f.ArchiverLastArchivedAt);
        return failing
            ? new("archive_command", ReadinessLevel.Red,
                $"archive_command is failing: {f.ArchiverLastFailedWal} failed at {f.ArchiverLastFailedAt:u} ({f.ArchiverFailedCount} failures); the server keeps every unarchived segment in pg_wal until it succeeds.",
                ["-- read the server log for the command's error, fix the command or its destination, then:", "SELECT pg_reload_conf();", "-- or stop archiving if the console's stream is enough: ALTER SYSTEM SET archive_mode = 'off'; (restart)"])
            : new("archive_command", ReadinessLevel.Green,
                $"archive_mode is {f.ArchiveMode} and archiving works{(f.ArchiverLastArchivedAt is { } at ? $" (last segment at {at:u})" : "")}.", []);
    }

    /// <summary>Reads the facts from the server. Needs only a login; what it cannot see is reported as such.</summary>
    public static async Task<ReadinessFacts> GatherAsync(NpgsqlConnectionStringBuilder connection, string slot, CancellationToken ct)
    {
        string? refused = null;
        try
        {
            await PitrConnections.IdentifyAsync(connection, ct);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or TimeoutException)
        {
            refused = e is PostgresException pe ? pe.MessageText : e.Message;
        }

        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT current_user,
                   current_setting('wal_level'),
                   current_setting('max_wal_senders')::int,
                   current_setting('max_replication_slots')::int,
                   (SELECT CASE WHEN setting::bigint < 0 THEN NULL ELSE setting::bigint * 1024 * 1024 END FROM pg_settings WHERE name = 'max_slot_wal_keep_size'),
                   (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user),
                   current_setting('archive_mode'),
                   a.failed_count, a.last_failed_time, a.last_archived_time, a.last_failed_wal,
                   s.slot_name IS NOT NULL, coalesce(s.active, false), s.wal_status,
                   (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END - s.restart_lsn)::bigint
            FROM pg_stat_archiver a
            LEFT JOIN pg_replication_slots s ON s.slot_name = $1
            """, conn) { Parameters = { new() { Value = slot } } };
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        DateTimeOffset? At(int i) => r.IsDBNull(i) ? null : new DateTimeOffset(r.GetDateTime(i), TimeSpan.Zero);
        return new ReadinessFacts
        {
            Role = r.GetString(0),
            WalLevel = r.GetString(1),
            MaxWalSenders = r.GetInt32(2),
            MaxReplicationSlots = r.GetInt32(3),
            MaxSlotWalKeepBytes = r.IsDBNull(4) ? null : r.GetInt64(4),
            RoleCanReplicate = !r.IsDBNull(5) && r.GetBoolean(5),
            ReplicationRefused = refused,
            ArchiveMode = r.GetString(6),
            ArchiverFailedCount = r.GetInt64(7),
            ArchiverLastFailedAt = At(8),
            ArchiverLastArchivedAt = At(9),
            ArchiverLastFailedWal = r.IsDBNull(10) ? null : r.GetString(10),
            SlotName = slot,
            SlotExists = r.GetBoolean(11),
            SlotActive = r.GetBoolean(12),
            SlotWalStatus = r.IsDBNull(13) ? null : r.GetString(13),
            SlotRetainedBytes = r.IsDBNull(14) ? null : r.GetInt64(14),
        };
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
    };

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
