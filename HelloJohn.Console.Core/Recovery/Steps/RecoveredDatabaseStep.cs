using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Check the recovered database": keeps the connection typed in, then checks the database is promoted, holds
/// HelloJohn's tables and nothing written after the chosen time.</summary>
internal sealed class RecoveredDatabaseStep : IRecoveryStep
{
    /// <summary>Rows stamped a little after the target are normal (clocks, commit delays); more means the wrong point.</summary>
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(1);

    public Task ApplyInputAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        var text = inputs.GetValueOrDefault("connection");
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new RecoveryInputException("Enter the recovered database's connection. Nothing was stored.");
        }

        try
        {
            ctx.SetNewConnection(PgConnection.Parse(text));
        }
        catch (FormatException e)
        {
            throw new RecoveryInputException($"The connection could not be read: {e.Message} Nothing was stored.");
        }

        return ctx.LogAsync($"Recovered database: {ctx.Run.NewDatabaseDisplay}.");
    }

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var connection = ctx.NewConnection();
        NewServerFacts facts;
        try
        {
            facts = await NewServerProbe.InspectAsync(connection, ctx.Run.Provider, ct);
        }
        catch (RecoveryInputException e)
        {
            return CheckOutcome.Fail(e.Message);
        }

        ctx.Run.NewServerVersion = facts.ServerVersion;
        if (!facts.DatabaseExists)
        {
            return CheckOutcome.Fail($"{connection.Database} does not exist on {connection.Host}:{connection.Port}. Check the database name of the recovered instance.");
        }

        if (facts.InRecovery)
        {
            return CheckOutcome.Fail($"{connection.Host}:{connection.Port} is still in recovery (read only). Wait until it reaches the target and promotes (recovery_target_action = 'promote'), then check again. If its log says the recovery target was not reached, the WAL archive does not go that far: pick an earlier time.");
        }

        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('public.hj_user') IS NOT NULL", conn))
        {
            if (await exists.ExecuteScalarAsync(ct) is not true)
            {
                return CheckOutcome.Fail($"{connection.Describe()} has no HelloJohn tables (hj_user is missing): this is not a recovered HelloJohn database.");
            }
        }

        var newest = await NewestWriteAsync(conn, ct);
        var target = ctx.Run.PointInTimeTarget!.Value;
        if (newest is { } n && n > target + Tolerance)
        {
            return CheckOutcome.Fail($"The recovered database holds rows written at {n:u}, after the chosen time {target:u}: it was recovered to a later point. Restore again to the chosen time.");
        }

        var seen = newest is { } w ? $" Its newest row was written at {w:u}." : "";
        return CheckOutcome.Pass($"{connection.Describe()} is promoted and holds HelloJohn's tables (PostgreSQL {facts.ServerVersion}).{seen}");
    }

    /// <summary>The newest <c>created_at</c> among HelloJohn's tables that have one, or null.</summary>
    private static async Task<DateTimeOffset?> NewestWriteAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var tables = new List<string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name LIKE 'hj\_%' AND column_name = 'created_at' AND data_type = 'timestamp with time zone'
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        DateTimeOffset? newest = null;
        foreach (var table in tables)
        {
            await using var cmd = new NpgsqlCommand($"SELECT max(created_at) FROM public.{LocalPostgresCluster.QuoteIdent(table)}", conn);
            if (await cmd.ExecuteScalarAsync(ct) is DateTime at)
            {
                var utc = new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc));
                newest = newest is null || utc > newest ? utc : newest;
            }
        }

        return newest;
    }
}
