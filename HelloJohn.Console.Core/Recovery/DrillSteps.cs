using System.Globalization;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The drill: "database host failure" rehearsed against a scratch database on the target's own server, which
/// the console creates and always drops. Deploying and restarting are left out: a drill never touches HelloJohn.</summary>
internal static class DrillSteps
{
    public const string ScratchKey = "scratch-database";
    public const string DropKey = "drop-scratch";
    public const string Prefix = "hellojohn_drill_";

    public static IReadOnlyList<RecoveryStepDefinition> All() =>
    [
        new()
        {
            Key = ScratchKey,
            Title = "Create a scratch database",
            Instructions = _ => [new($"The console creates an empty database named {Prefix}<unix time> on the target's server, standing in for the new server of a real incident.")],
            Action = CreateScratchAsync,
            ActionLabel = "Create it",
            Check = CheckScratchAsync,
        },
        DatabaseHostSteps.ChooseBackup(automatic: true),
        DatabaseHostSteps.Restore(drill: true),
        DatabaseHostSteps.Verify(),
        new()
        {
            Key = DropKey,
            Title = "Drop the scratch database",
            Instructions = _ => [new("The console drops the scratch database. The drill's RTO stops at the verification; dropping is clean-up.")],
            Action = DropScratchAsync,
            ActionLabel = "Drop it",
            Check = CheckDroppedAsync,
            CountsForRto = false,
        },
    ];

    private static async Task CreateScratchAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var live = await ctx.Services.GetRequiredService<TargetService>().GetConnectionAsync(ctx.Target.Id, ct);
        var time = ctx.Services.GetRequiredService<TimeProvider>();
        var name = ctx.Run.ScratchDatabase ?? Prefix + time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(live.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = name } } })
        {
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {LocalPostgresCluster.QuoteIdent(name)} TEMPLATE template0", conn);
                await create.ExecuteNonQueryAsync(ct);
            }
        }

        ctx.Run.ScratchDatabase = name;
        ctx.SetNewConnection(live.WithDatabase(name));
        ctx.Run.NewServerVersion = await DatabaseInspector.ServerVersionAsync(conn, ct);
        await ctx.LogAsync($"Created {name} on {live.Host}:{live.Port} (PostgreSQL {ctx.Run.NewServerVersion}).");
    }

    private static async Task<CheckOutcome> CheckScratchAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var facts = await NewServerProbe.InspectAsync(ctx.NewConnection(), TargetProvider.SelfManaged, ct);
        return facts is { DatabaseExists: true, UserTables: 0 }
            ? CheckOutcome.Pass($"{ctx.Run.ScratchDatabase} exists and is empty (PostgreSQL {facts.ServerVersion}).")
            : CheckOutcome.Fail($"{ctx.Run.ScratchDatabase} is {(facts.DatabaseExists ? $"not empty ({facts.UserTables} tables)" : "missing")}. Nothing was restored.");
    }

    private static async Task DropScratchAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        if (await DropAsync(ctx.Services, ctx.Target.Id, ctx.Run.ScratchDatabase, ct))
        {
            await ctx.LogAsync($"Dropped {ctx.Run.ScratchDatabase}.");
        }
    }

    /// <summary>Drops a drill's scratch database; only names the drill creates are ever dropped.</summary>
    internal static async Task<bool> DropAsync(IServiceProvider services, Guid targetId, string? name, CancellationToken ct)
    {
        if (name is null || !name.StartsWith(Prefix, StringComparison.Ordinal) || name.Length > 63)
        {
            return false;
        }

        var live = await services.GetRequiredService<TargetService>().GetConnectionAsync(targetId, ct);
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(live.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {LocalPostgresCluster.QuoteIdent(name)} WITH (FORCE)", conn);
        await drop.ExecuteNonQueryAsync(ct);
        return true;
    }

    private static async Task<CheckOutcome> CheckDroppedAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var live = await ctx.Services.GetRequiredService<TargetService>().GetConnectionAsync(ctx.Target.Id, ct);
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(live.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = ctx.Run.ScratchDatabase ?? "" } } };
        return await cmd.ExecuteScalarAsync(ct) is null
            ? CheckOutcome.Pass($"{ctx.Run.ScratchDatabase} is gone.")
            : CheckOutcome.Fail($"{ctx.Run.ScratchDatabase} still exists. Drop it by hand: DROP DATABASE {ctx.Run.ScratchDatabase};");
    }
}
