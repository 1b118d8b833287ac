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

    /// <summary>Creates an empty database from <c>template0</c>, so nothing added to <c>template1</c> collides with the dump.
    /// A role without CREATEDB (HelloJohn's usual one) gets <see cref="CreateDatabaseDeniedException"/> saying what to do.
    /// On a server that does not sync (the console's scratch cluster) the template's files are copied, which is several
    /// times quicker there than PostgreSQL 15's default of writing them through the WAL.</summary>
    public static async Task CreateAsync(NpgsqlConnection conn, string name, CancellationToken ct)
    {
        await using var probe = new NpgsqlCommand("SELECT current_setting('server_version_num')::int >= 150000 AND NOT current_setting('fsync')::bool", conn);
        var fileCopy = (bool)(await probe.ExecuteScalarAsync(ct))!;
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {LocalPostgresCluster.QuoteIdent(name)} TEMPLATE template0" + (fileCopy ? " STRATEGY FILE_COPY" : ""), conn) { CommandTimeout = 0 };
        try
        {
            await cmd.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            var role = conn.UserName ?? "the console's role";
            throw new CreateDatabaseDeniedException(
                $"PostgreSQL on {conn.Host}:{conn.Port} refused to create {name}: the role {role} may not create databases ({e.MessageText}, {e.SqlState}). Nothing was restored. " +
                $"Either grant it (ALTER ROLE {LocalPostgresCluster.QuoteIdent(role)} CREATEDB;), or, for verifications, set {CreateDatabaseDeniedException.ScratchServerVariable} " +
                "to a PostgreSQL server where the console may create databases (they then restore there instead of on HelloJohn's server).", e);
        }
    }

    /// <summary>Drops the database, disconnecting its sessions first (PostgreSQL 13 and later).</summary>
    public static async Task DropAsync(NpgsqlConnection conn, string name, bool force, CancellationToken ct)
    {
        var sql = $"DROP DATABASE IF EXISTS {LocalPostgresCluster.QuoteIdent(name)}" + (force ? " WITH (FORCE)" : "");
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Drops a database this console made (a verification's, a half-restored one) or was told to replace, retrying while a session it
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
    internal static async Task<string?> SessionsInAsync(NpgsqlConnectionStringBuilder server, string database)
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

/// <summary>The server refused CREATE DATABASE to the console's role; the message names both ways out.</summary>
public sealed class CreateDatabaseDeniedException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>The setting that points verifications at another server (README, "Protecting a real deployment").</summary>
    public const string ScratchServerVariable = "Verification__ScratchServer";
}
