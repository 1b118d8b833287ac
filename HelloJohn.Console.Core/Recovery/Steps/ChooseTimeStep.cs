namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Choose the moment to recover to": keeps the time (given with its zone, kept in UTC) and checks it has
/// passed and comes before the incident.</summary>
internal sealed class ChooseTimeStep(TimeProvider time) : IRecoveryStep
{
    public async Task ApplyInputAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        var (utc, zone) = PointInTimeSteps.ParseTime(inputs.GetValueOrDefault("time"), inputs.GetValueOrDefault("zone"));
        ctx.Run.PointInTimeTarget = utc;
        ctx.Run.PointInTimeZone = zone;
        ctx.Run.RecoveryPointAt = utc;
        await ctx.LogAsync($"Recover to {utc:u} (given in {zone}).");
    }

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        if (ctx.Run.PointInTimeTarget is not { } at)
        {
            return CheckOutcome.Fail("No time chosen yet.");
        }

        if (at > time.GetUtcNow())
        {
            return CheckOutcome.Fail($"{at:u} is in the future; a database can only be recovered to a moment that has passed.");
        }

        if (ctx.Run.IncidentSource == IncidentTimeSource.Entered && ctx.Run.IncidentAt is { } incident && at > incident)
        {
            return CheckOutcome.Fail($"{at:u} is after the incident ({incident:u}): the damage would be recovered too. Choose a time before the incident.");
        }

        await ctx.LogAsync($"Target time accepted: {at:u}.");
        var lost = ctx.Run.IncidentAt is { } i ? $" Data written between it and the incident ({RecoveryDurations.Describe(i - at)}) is lost." : "";
        return CheckOutcome.Pass($"Recover to {at:u} ({ctx.Run.PointInTimeZone} {TimeZoneInfo.ConvertTimeBySystemTimeZoneId(at, ctx.Run.PointInTimeZone!):yyyy-MM-dd HH:mm:ss}).{lost}");
    }
}
