using System.Net.Sockets;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>What the console found on a server it is about to restore into.</summary>
public sealed record NewServerFacts(
    string ServerVersion,
    bool DatabaseExists,
    bool CanCreateDatabase,
    int UserTables,
    IReadOnlyList<string> SampleTables,
    bool InRecovery);

/// <summary>Connects to a database someone typed in and reads what a restore needs to know. Errors become sentences
/// that name the server (never the password) and say that nothing was restored.</summary>
public static class NewServerProbe
{
    private const string UserTablesSql = """
        SELECT n.nspname || '.' || c.relname, n.nspname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
        ORDER BY 1
        """;

    /// <summary>Schemas a provider creates in every new database, which do not make it "not empty".</summary>
    public static IReadOnlySet<string> ProviderSchemas(TargetProvider provider) => provider switch
    {
        TargetProvider.Supabase => SupabaseSchemas,
        _ => NoSchemas,
    };

    private static readonly HashSet<string> NoSchemas = [];

    private static readonly HashSet<string> SupabaseSchemas =
    [
        "auth", "storage", "realtime", "extensions", "graphql", "graphql_public", "vault", "pgsodium", "pgsodium_masks",
        "supabase_functions", "supabase_migrations", "net", "cron", "pgbouncer", "_realtime", "_analytics",
    ];

    public static async Task<NewServerFacts> InspectAsync(NpgsqlConnectionStringBuilder connection, TargetProvider provider, CancellationToken ct)
    {
        var ignored = ProviderSchemas(provider);
        var probe = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false, Timeout = Math.Clamp(connection.Timeout, 3, 15) };
        try
        {
            await using var conn = new NpgsqlConnection(probe.ConnectionString);
            await conn.OpenAsync(ct);
            var version = await DatabaseInspector.ServerVersionAsync(conn, ct);
            var tables = new List<string>();
            await using (var cmd = new NpgsqlCommand(UserTablesSql, conn))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    if (!ignored.Contains(reader.GetString(1)))
                    {
                        tables.Add(reader.GetString(0));
                    }
                }
            }

            return new NewServerFacts(version, true, false, tables.Count, [.. tables.Take(5)], await InRecoveryAsync(conn, ct));
        }
        catch (PostgresException e) when (e.SqlState == "3D000")
        {
            // The database is not there yet: fine if we may create it, which is asked on the maintenance database.
            return await InspectMaintenanceAsync(probe, ct);
        }
        catch (Exception e) when (Unreachable(e))
        {
            throw new RecoveryInputException(Describe(e, probe));
        }
    }

    private static async Task<NewServerFacts> InspectMaintenanceAsync(NpgsqlConnectionStringBuilder probe, CancellationToken ct)
    {
        var maintenance = new NpgsqlConnectionStringBuilder(probe.ConnectionString) { Database = "postgres" };
        try
        {
            await using var conn = new NpgsqlConnection(maintenance.ConnectionString);
            await conn.OpenAsync(ct);
            var version = await DatabaseInspector.ServerVersionAsync(conn, ct);
            await using var cmd = new NpgsqlCommand("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user", conn);
            var canCreate = await cmd.ExecuteScalarAsync(ct) is true;
            return new NewServerFacts(version, false, canCreate, 0, [], await InRecoveryAsync(conn, ct));
        }
        catch (Exception e) when (Unreachable(e))
        {
            throw new RecoveryInputException(
                $"The database {probe.Database} does not exist on {probe.Host}:{probe.Port}, and the maintenance database 'postgres' could not be opened to create it ({Reason(e)}). " +
                "Nothing was restored. Create the database first (see the commands above), or give a user that may create databases.");
        }
    }

    private static async Task<bool> InRecoveryAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", conn);
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    private static bool Unreachable(Exception e) => e is NpgsqlException or SocketException or TimeoutException or ArgumentException
        || (e is OperationCanceledException && e.InnerException is TimeoutException);

    private static string Reason(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} ({pg.SqlState})",
        NpgsqlException { InnerException: SocketException s } => s.Message,
        NpgsqlException { InnerException: TimeoutException } or TimeoutException => "no answer in time",
        _ => e.Message,
    };

    public static string Describe(Exception e, NpgsqlConnectionStringBuilder where)
    {
        var server = $"{where.Host}:{where.Port}";
        return e switch
        {
            PostgresException { SqlState: "28P01" or "28000" } pg =>
                $"{server} refused the sign-in of '{where.Username}': {pg.MessageText}. Nothing was restored. Check the user and password in the connection.",
            PostgresException pg =>
                $"{server} refused the connection to {where.Database}: {pg.MessageText} ({pg.SqlState}). Nothing was restored.",
            _ => $"Could not reach the new server {server} ({Reason(e)}). Nothing was restored. Check that PostgreSQL runs there, that the host and port are right, and that this console may connect to it (firewall, security group, pg_hba.conf).",
        };
    }
}
