using Npgsql;

namespace HelloJohn.Console.Core.Postgres;

public sealed record TableRowCount(string Schema, string Table, long Rows)
{
    public string QualifiedName => Schema == "public" ? Table : $"{Schema}.{Table}";
}

/// <summary>Reads what a HelloJohn database holds: its tables (from the system catalog, since HelloJohn's schema
/// changes between versions), exact row counts, versions.</summary>
public static class DatabaseInspector
{
    private const string TablesSql = """
        SELECT n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
        ORDER BY n.nspname, c.relname
        """;

    /// <summary>Exact <c>count(*)</c> of every user table, in the connection's current transaction (and so snapshot).
    /// HelloJohn's users then sessions come first, in either of its layouts.</summary>
    public static async Task<IReadOnlyList<TableRowCount>> CountRowsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var tables = new List<(string Schema, string Table)>();
        await using (var cmd = new NpgsqlCommand(TablesSql, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                tables.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var counts = new List<TableRowCount>(tables.Count);
        foreach (var (schema, table) in tables)
        {
            counts.Add(new TableRowCount(schema, table, await CountAsync(conn, schema, table, ct)));
        }

        return Order(counts);
    }

    /// <summary>Exact <c>count(*)</c> of every user table of a database nobody writes to (a restored copy), on up to
    /// <paramref name="connections"/> connections at once, largest tables first. Same result and order as
    /// <see cref="CountRowsAsync(NpgsqlConnection, CancellationToken)"/>, which a snapshot needs.</summary>
    public static async Task<IReadOnlyList<TableRowCount>> CountRowsAsync(NpgsqlConnectionStringBuilder database, int connections, CancellationToken ct)
    {
        var tables = new System.Collections.Concurrent.ConcurrentQueue<(string Schema, string Table)>();
        await using (var conn = new NpgsqlConnection(database.ConnectionString))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand(TablesSql.Replace("ORDER BY ", "ORDER BY pg_relation_size(c.oid) DESC, ", StringComparison.Ordinal), conn);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                tables.Enqueue((reader.GetString(0), reader.GetString(1)));
            }
        }

        var counts = new System.Collections.Concurrent.ConcurrentBag<TableRowCount>();
        async Task CountSomeAsync()
        {
            await using var conn = new NpgsqlConnection(database.ConnectionString);
            await conn.OpenAsync(ct);
            while (tables.TryDequeue(out var t))
            {
                counts.Add(new TableRowCount(t.Schema, t.Table, await CountAsync(conn, t.Schema, t.Table, ct)));
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Clamp(connections, 1, Math.Max(1, tables.Count))).Select(_ => CountSomeAsync()));
        return Order(counts);
    }

    private static async Task<long> CountAsync(NpgsqlConnection conn, string schema, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {LocalPostgresCluster.QuoteIdent(schema)}.{LocalPostgresCluster.QuoteIdent(table)}", conn) { CommandTimeout = 0 };
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static IReadOnlyList<TableRowCount> Order(IEnumerable<TableRowCount> counts) =>
        [.. counts.OrderBy(c => HelloJohnSchema.DisplayRank(c.Schema, c.Table)).ThenBy(c => c.Schema, StringComparer.Ordinal).ThenBy(c => c.Table, StringComparer.Ordinal)];

    /// <summary>HelloJohn's last applied migration, when a migrations table is found; null otherwise.</summary>
    public static async Task<string?> SchemaVersionAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        foreach (var table in new[] { "hj_schema_migrations", "schema_migrations", "goose_db_version" })
        {
            await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", conn) { Parameters = { new() { Value = table } } };
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!)
            {
                continue;
            }

            var column = table == "goose_db_version" ? "version_id" : "version";
            await using var cmd = new NpgsqlCommand($"SELECT max({column})::text FROM {table}", conn);
            if (await cmd.ExecuteScalarAsync(ct) is string version)
            {
                return $"{table}:{version}";
            }
        }

        return null;
    }

    public static async Task<string> ServerVersionAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SHOW server_version", conn);
        return ((string)(await cmd.ExecuteScalarAsync(ct))!).Split(' ')[0];
    }

    /// <summary>The server's version as a number, e.g. 150018.</summary>
    public static async Task<int> ServerVersionNumAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SHOW server_version_num", conn);
        return int.Parse((string)(await cmd.ExecuteScalarAsync(ct))!, System.Globalization.CultureInfo.InvariantCulture);
    }
}
