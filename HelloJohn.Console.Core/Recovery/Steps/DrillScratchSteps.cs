using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Create a scratch database": the drill's stand-in for a new server, empty, on the target's own server.</summary>
internal sealed class ScratchDatabaseStep(DrillScratch scratch) : IRecoveryStep
{
    public async Task ActAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var connection = await scratch.CreateAsync(ctx.Run, ct);
        ctx.SetNewConnection(connection);
        await ctx.LogAsync($"Created {ctx.Run.ScratchDatabase} on {connection.Host}:{connection.Port} (PostgreSQL {ctx.Run.NewServerVersion}).");
    }

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var facts = await NewServerProbe.InspectAsync(ctx.NewConnection(), TargetProvider.SelfManaged, ct);
        return facts is { DatabaseExists: true, UserTables: 0 }
            ? CheckOutcome.Pass($"{ctx.Run.ScratchDatabase} exists and is empty (PostgreSQL {facts.ServerVersion}).")
            : CheckOutcome.Fail($"{ctx.Run.ScratchDatabase} is {(facts.DatabaseExists ? $"not empty ({facts.UserTables} tables)" : "missing")}. Nothing was restored.");
    }
}

/// <summary>"Drop the scratch database": clean-up after the drill's verification.</summary>
internal sealed class DropScratchStep(DrillScratch scratch) : IRecoveryStep
{
    public async Task ActAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        if (await scratch.DropAsync(ctx.Target.Id, ctx.Run.ScratchDatabase, ct))
        {
            await ctx.LogAsync($"Dropped {ctx.Run.ScratchDatabase}.");
        }
    }

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct) =>
        await scratch.ExistsAsync(ctx.Target.Id, ctx.Run.ScratchDatabase, ct)
            ? CheckOutcome.Fail($"{ctx.Run.ScratchDatabase} still exists. Drop it by hand: DROP DATABASE {ctx.Run.ScratchDatabase};")
            : CheckOutcome.Pass($"{ctx.Run.ScratchDatabase} is gone.");
}
