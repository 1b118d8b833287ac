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

    /// <summary>HelloJohn's last applied migration: the newest row of its migrations table (<c>schema_migrations</c>,
    /// or an older layout's), when the database has one; null otherwise. The table's columns differ between versions and
    /// tools, so they are read from the catalog: the version is the column named like one (else the key's first
    /// column), and the newest row is the one applied last when a time column exists, else the highest version.</summary>
    public static async Task<string?> SchemaVersionAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        const string columnsSql = """
            SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnum,
                   COALESCE(a.attnum = ANY (i.indkey), false) AS in_key
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
            WHERE c.relkind IN ('r', 'p') AND c.relname = ANY ($1)
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            ORDER BY array_position($1, c.relname::text), n.nspname = 'public' DESC, n.nspname, a.attnum
            """;
        string[] tables = ["schema_migrations", "hj_schema_migrations", "goose_db_version"];
        var columns = new List<(string Schema, string Table, string Name, string Type, bool InKey)>();
        await using (var cmd = new NpgsqlCommand(columnsSql, conn) { Parameters = { new() { Value = tables } } })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(5)));
            }
        }

        foreach (var table in columns.GroupBy(c => (c.Schema, c.Table)))
        {
            var all = table.ToList();
            var version = all.FirstOrDefault(c => c.Name is "version" or "version_id" or "migration" or "name" or "id")
                is { Name: not null } named ? named : all.FirstOrDefault(c => c.InKey) is { Name: not null } key ? key : all[0];
            var applied = all.FirstOrDefault(c => c.Type.StartsWith("timestamp", StringComparison.Ordinal) || c.Type == "date");
            var v = LocalPostgresCluster.QuoteIdent(version.Name);
            var order = applied.Name is null ? $"{v} DESC" : $"{LocalPostgresCluster.QuoteIdent(applied.Name)} DESC NULLS LAST, {v} DESC";
            var where = all.Any(c => c.Name == "is_applied") ? "WHERE is_applied" : "";
            var qualified = $"{LocalPostgresCluster.QuoteIdent(table.Key.Schema)}.{LocalPostgresCluster.QuoteIdent(table.Key.Table)}";
            await using var cmd = new NpgsqlCommand($"SELECT {v}::text FROM {qualified} {where} ORDER BY {order} LIMIT 1", conn);
            if (await cmd.ExecuteScalarAsync(ct) is string found)
            {
                return $"{table.Key.Table}:{found}";
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
