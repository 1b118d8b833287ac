using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Check the recovered database": keeps the connection typed in, then checks the database is promoted, holds
/// HelloJohn's tables and nothing written after the chosen time.</summary>
internal sealed class RecoveredDatabaseStep(IDbContextFactory<ConsoleDbContext> dbFactory) : IRecoveryStep
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

        var (manifestTables, manifestOf) = await NewestManifestTablesAsync(ctx, ct);
        var recognition = HelloJohnSchema.Recognize(await RestoreStep.TablesAsync(connection, ct), manifestTables, manifestOf);
        if (!recognition.IsHelloJohn)
        {
            return CheckOutcome.Fail($"{connection.Describe()} is not a recovered HelloJohn database: {recognition.Evidence}. Check the database name of the recovered instance.");
        }

        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);

        var newest = await NewestWriteAsync(conn, ct);
        var target = ctx.Run.PointInTimeTarget!.Value;
        if (newest is { } n && n > target + Tolerance)
        {
            return CheckOutcome.Fail($"The recovered database holds rows written at {n:u}, after the chosen time {target:u}: it was recovered to a later point. Restore again to the chosen time.");
        }

        var seen = newest is { } w ? $" Its newest row was written at {w:u}." : "";
        return CheckOutcome.Pass($"{connection.Describe()} is promoted and is HelloJohn's database: {recognition.Evidence} (PostgreSQL {facts.ServerVersion}).{seen}");
    }

    /// <summary>The tables the target's newest finished backup held, from the catalog's copy of its manifest.</summary>
    private async Task<(IReadOnlyCollection<string>? Tables, string? Of)> NewestManifestTablesAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var newest = await db.Backups.AsNoTracking()
            .Where(b => b.TargetId == ctx.Run.TargetId && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
            .OrderByDescending(b => b.CreatedAt).Select(b => new { b.Id, b.FileName }).FirstOrDefaultAsync(ct);
        if (newest is null)
        {
            return (null, null);
        }

        var tables = await db.BackupTableCounts.AsNoTracking().Where(c => c.BackupId == newest.Id).Select(c => c.Schema + "." + c.Table).ToListAsync(ct);
        return (tables, $"the manifest of {newest.FileName}");
    }

    /// <summary>The newest <c>created_at</c> among the database's tables that have one (whatever HelloJohn calls them), or null.</summary>
    private static async Task<DateTimeOffset?> NewestWriteAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var tables = new List<string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name = 'created_at' AND data_type = 'timestamp with time zone'
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
