using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Creates, finds and drops databases on a PostgreSQL server. Names are validated by the callers and always
/// quoted here.</summary>
public static class ServerDatabases
{
    /// <summary>A connection that is closed for real when disposed: a database we drop must not keep pooled sessions.</summary>
    public static NpgsqlConnectionStringBuilder Unpooled(this NpgsqlConnectionStringBuilder source, string? database = null)
    {
        var copy = new NpgsqlConnectionStringBuilder(source.ConnectionString) { Pooling = false };
        if (database is not null)
        {
            copy.Database = database;
        }

        return copy;
    }

    public static async Task<bool> ExistsAsync(NpgsqlConnection conn, string name, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = name } } };
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>Creates an empty database from <c>template0</c>, so nothing added to <c>template1</c> collides with the dump.</summary>
    public static async Task CreateAsync(NpgsqlConnection conn, string name, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {LocalPostgresCluster.QuoteIdent(name)} TEMPLATE template0", conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Drops the database, disconnecting its sessions first (PostgreSQL 13 and later).</summary>
    public static async Task DropAsync(NpgsqlConnection conn, string name, bool force, CancellationToken ct)
    {
        var sql = $"DROP DATABASE IF EXISTS {LocalPostgresCluster.QuoteIdent(name)}" + (force ? " WITH (FORCE)" : "");
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Drops a database this console made (a verification's, a half-restored one), retrying while a session it
    /// may not end holds it: autovacuum visits a freshly restored database, and DROP ... WITH (FORCE) refuses to end a
    /// process of another role, while a plain DROP cancels autovacuum and waits. Null when it is gone, else why not.</summary>
    public static async Task<string?> DropOwnAsync(NpgsqlConnectionStringBuilder server, string name, TimeProvider time, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = new NpgsqlConnection(server.Unpooled().ConnectionString);
                await conn.OpenAsync(ct);
                await DropAsync(conn, name, force: attempt % 2 == 1, ct);
                return null;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.ObjectInUse or PostgresErrorCodes.InsufficientPrivilege && attempt < 6)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), time, ct);
            }
            catch (PostgresException e)
            {
                return e.MessageText;
            }
        }
    }

    /// <summary>Drops a database this console created, after success, failure and cancellation alike: never with the
    /// run's token, bounded on its own. Null when it is gone, else why not (and who is connected to it).</summary>
    public static async Task<string?> DropCreatedAsync(NpgsqlConnectionStringBuilder server, string name, TimeProvider time)
    {
        using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string? reason;
        try
        {
            reason = await DropOwnAsync(server, name, time, cleanup.Token);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            reason = e.Message;
        }

        return reason is null ? null : reason + (await SessionsInAsync(server, name) is { } who ? $"; connected: {who}" : "");
    }

    /// <summary>Who is connected to a database (roles and programs, never queries), to say what kept it from being dropped.</summary>
    private static async Task<string?> SessionsInAsync(NpgsqlConnectionStringBuilder server, string database)
    {
        try
        {
            await using var conn = new NpgsqlConnection(server.Unpooled().ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "SELECT string_agg(coalesce(usename, '?') || ' (' || coalesce(nullif(application_name, ''), backend_type) || ')', ', ') FROM pg_stat_activity WHERE datname = $1", conn)
            {
                Parameters = { new() { Value = database } },
            };
            return await cmd.ExecuteScalarAsync() as string;
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }

    /// <summary>Databases whose name starts with <paramref name="prefix"/>, with how many sessions each has open.</summary>
    public static async Task<IReadOnlyList<(string Name, int Sessions)>> ListAsync(NpgsqlConnection conn, string prefix, CancellationToken ct)
    {
        const string sql = """
            SELECT d.datname, (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname)::int
            FROM pg_database d
            WHERE left(d.datname, length($1)) = $1
            ORDER BY d.datname
            """;
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = prefix } } };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var found = new List<(string, int)>();
        while (await reader.ReadAsync(ct))
        {
            found.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return found;
    }
}
