using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>The point-in-time wizard's automated restore for self-managed servers: the console's own WAL archive,
/// restored and promoted into a new directory on a new port. Managed providers keep their own path (instructions).</summary>
public sealed class PitrWizardRestore(PitrRestorePlanner planner, PointInTimeRestoreEngine engine, PitrWorkspace workspace)
{
    public async Task RunAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        if (ctx.Target.Provider is not (TargetProvider.SelfManaged or TargetProvider.DockerCompose))
        {
            throw new RecoveryStepFailedException($"{ctx.Target.Provider} restores to a point in time in its own console: follow the instructions above, then mark this step done.");
        }

        if (ctx.Run.PointInTimeTarget is not { } target)
        {
            throw new RecoveryStepFailedException("No time is chosen yet: go back to the first step.");
        }

        PitrRestorePlan plan;
        try
        {
            plan = await planner.PlanAtAsync(ctx.Target.Id, target, ctx.Run.PointInTimeZone ?? "UTC", PitrRestoreMode.Disaster, workspace.RestoreDirectoryFor(ctx.Run.Id), null, ct);
        }
        catch (PitrInputException e)
        {
            throw new RecoveryStepFailedException(e.Message);
        }

        var result = await engine.RestoreAsync(plan, new Progress<string>(line => _ = ctx.LogAsync(line)), ct);
        await ctx.LogAsync($"Restored into {result.DataDirectory} on port {result.Port}, timeline {result.Timeline}: {result.StoppedAt}");
        foreach (var step in result.NextSteps)
        {
            await ctx.LogAsync(step);
        }

        await ctx.LogAsync($"Rows: {string.Join(", ", result.RowCounts.Select(c => $"{c.Schema}.{c.Table} {c.Rows}"))}.");
    }
}
