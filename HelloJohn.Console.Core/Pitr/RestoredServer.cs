using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>The restored server's configuration, its log, and what it holds.</summary>
internal static partial class RestoredServer
{
    /// <summary>Appends the recovery settings to postgresql.auto.conf (read last, so they win) and creates
    /// recovery.signal. Verification restores pause at the target, disaster restores promote; neither archives.</summary>
    public static async Task WriteRecoverySettingsAsync(PitrRestorePlan plan, string staging, IReadOnlyDictionary<string, string> primarySettings, CancellationToken ct)
    {
        var data = plan.DataDirectory;
        foreach (var leftover in new[] { "standby.signal", "recovery.signal", "postmaster.pid", "postmaster.opts" })
        {
            File.Delete(Path.Combine(data, leftover));
        }

        // Debian keeps postgresql.conf and pg_hba.conf in /etc: a backup of such a cluster has none.
        if (!File.Exists(Path.Combine(data, "postgresql.conf")))
        {
            await File.WriteAllTextAsync(Path.Combine(data, "postgresql.conf"), "# Written by HelloJohn Console for a restored copy\n", ct);
        }

        if (!File.Exists(Path.Combine(data, "pg_hba.conf")))
        {
            await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), "host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n", ct);
        }

        var settings = new StringBuilder()
            .Append("\n# Point-in-time restore by HelloJohn Console\n")
            .Append(CultureInfo.InvariantCulture, $"restore_command = 'cp \"{staging}/%f\" \"%p\"'\n")
            .Append(CultureInfo.InvariantCulture, $"recovery_target_time = '{plan.TargetUtc.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'\n")
            .Append(CultureInfo.InvariantCulture, $"recovery_target_timeline = '{(plan.LatestTimeline ? "latest" : plan.Range.Timeline.ToString(CultureInfo.InvariantCulture))}'\n")
            .Append(CultureInfo.InvariantCulture, $"recovery_target_action = '{(plan.Mode == PitrRestoreMode.Verify ? "pause" : "promote")}'\n")
            .Append("archive_mode = 'off'\n")
            .Append("hot_standby = 'on'\n")
            .Append("primary_conninfo = ''\n")
            .Append("primary_slot_name = ''\n")
            .Append(CultureInfo.InvariantCulture, $"port = {plan.Port}\n")
            .Append("listen_addresses = '127.0.0.1'\n")
            .Append("unix_socket_directories = ''\n")
            .Append("logging_collector = 'off'\n")
            .Append("shared_preload_libraries = ''\n");
        foreach (var (name, value) in primarySettings)
        {
            // A hot standby refuses to start with lower values than the primary had (they may have been given on the
            // primary's command line, which a backup does not carry).
            settings.Append(CultureInfo.InvariantCulture, $"{name} = {value}\n");
        }

        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.auto.conf"), settings.ToString(), ct);
        await File.WriteAllTextAsync(Path.Combine(data, "recovery.signal"), "", ct);
    }

    /// <summary>The primary's settings a hot standby must match, from pg_controldata's report of the backup.</summary>
    public static IReadOnlyDictionary<string, string> PrimarySettings(string controlData)
    {
        var names = new Dictionary<string, string>
        {
            ["max_connections setting"] = "max_connections",
            ["max_worker_processes setting"] = "max_worker_processes",
            ["max_wal_senders setting"] = "max_wal_senders",
            ["max_prepared_xacts setting"] = "max_prepared_transactions",
            ["max_locks_per_xact setting"] = "max_locks_per_transaction",
        };
        var found = new Dictionary<string, string>();
        foreach (var line in controlData.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && names.TryGetValue(line[..colon].Trim(), out var setting) && int.TryParse(line[(colon + 1)..].Trim(), CultureInfo.InvariantCulture, out var value))
            {
                found[setting] = value.ToString(CultureInfo.InvariantCulture);
            }
        }

        return found;
    }

    /// <summary>Waits until recovery paused at the target (verification) or promoted (disaster recovery). Fails with
    /// the server's own words when recovery ended short of the target or the server stopped.</summary>
    public static async Task<(int Timeline, bool Promoted)> WaitForTargetAsync(NpgsqlConnectionStringBuilder connection, PitrRestoreMode mode, int timeline, string log, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var text = ReadLog(log);
            if (FatalLine().Matches(text).FirstOrDefault(m => !BenignFatal().IsMatch(m.Value)) is { } fatal)
            {
                throw new InvalidOperationException($"Recovery failed: {fatal.Value.Trim()}");
            }

            try
            {
                await using var conn = new NpgsqlConnection(connection.ConnectionString);
                await conn.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'not paused' END", conn);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                await r.ReadAsync(ct);
                var inRecovery = r.GetBoolean(0);
                var pause = r.GetString(1);
                if (!inRecovery)
                {
                    return (NewTimeline(text) ?? timeline, true);
                }

                if (mode == PitrRestoreMode.Verify && pause == "paused" && text.Contains("recovery stopping", StringComparison.Ordinal))
                {
                    return (timeline, false);
                }
            }
            catch (NpgsqlException) when (!ct.IsCancellationRequested)
            {
                // Not accepting connections yet (or restarting after promotion): ask again.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    /// <summary>"recovery stopping before commit of transaction 745, time 2024-…": where the replay stopped.</summary>
    public static string? StoppingLine(string log) =>
        StoppingPattern().Match(ReadLog(log)) is { Success: true } m ? m.Groups["what"].Value.Trim() : null;

    public static string LogTail(string log) => string.Join(" | ", ReadLog(log).Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(6));

    /// <summary>Counts the rows of every table in every database the role can reach (no table name is assumed).</summary>
    public static async Task<IReadOnlyList<TableRowCount>> CountRowsAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var databases = new List<string>();
        await using (var conn = new NpgsqlConnection(connection.ConnectionString))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND has_database_privilege(datname, 'CONNECT') ORDER BY datname", conn);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                databases.Add(r.GetString(0));
            }
        }

        var counts = new List<TableRowCount>();
        foreach (var database in databases)
        {
            await using var conn = new NpgsqlConnection(connection.WithDatabase(database).ConnectionString);
            await conn.OpenAsync(ct);
            var tables = new List<(string Schema, string Table)>();
            await using (var cmd = new NpgsqlCommand("""
                SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
                  AND has_table_privilege(c.oid, 'SELECT')
                ORDER BY 1, 2
                """, conn))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
            {
                while (await r.ReadAsync(ct))
                {
                    tables.Add((r.GetString(0), r.GetString(1)));
                }
            }

            foreach (var (schema, table) in tables)
            {
                await using var count = new NpgsqlCommand($"SELECT count(*) FROM {LocalPostgresCluster.QuoteIdent(schema)}.{LocalPostgresCluster.QuoteIdent(table)}", conn);
                counts.Add(new TableRowCount(database, schema, table, (long)(await count.ExecuteScalarAsync(ct))!));
            }
        }

        return counts;
    }

    private static int? NewTimeline(string log) =>
        NewTimelinePattern().Match(log) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    private static string ReadLog(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    [GeneratedRegex(@"(?:FATAL|PANIC):[^\n]*")]
    private static partial Regex FatalLine();

    [GeneratedRegex("starting up|not yet accepting connections|shutting down|password authentication failed|no pg_hba.conf entry")]
    private static partial Regex BenignFatal();

    [GeneratedRegex(@"LOG:\s+(?<what>recovery stopping[^\n]*)")]
    private static partial Regex StoppingPattern();

    [GeneratedRegex(@"selected new timeline ID: (\d+)")]
    private static partial Regex NewTimelinePattern();
}
