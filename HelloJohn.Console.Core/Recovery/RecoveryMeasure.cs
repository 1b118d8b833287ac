using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>RPO and RTO of a completed run, measured, with the incident time they are counted from.</summary>
public sealed record RecoveryMeasurement(DateTimeOffset IncidentAt, IncidentTimeSource Source, DateTimeOffset? RecoveryPointAt, TimeSpan? Rpo, TimeSpan Rto)
{
    public string Summary => $"RPO {RecoveryDurations.Describe(Rpo)} ({RecoveryDurations.Describe(Source)}), RTO {RecoveryDurations.Describe(Rto)}";
}

/// <summary>Measures what a recovery achieved. The incident is when the data stopped: as entered; else the first
/// backup after the restored one that failed because the database could not be reached (a failure kind kept as data
/// on the backup's run); else the start of the run (an upper bound, so the RPO shown is never better than the truth).</summary>
public sealed class RecoveryMeasure(IDbContextFactory<ConsoleDbContext> dbFactory)
{
    public async Task<(DateTimeOffset At, IncidentTimeSource Source)> IncidentAsync(RecoveryRun run, CancellationToken ct)
    {
        if (run.IncidentAt is { } entered && run.IncidentSource is { } source)
        {
            return (entered, source);
        }

        var after = run.RecoveryPointAt ?? DateTimeOffset.MinValue;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var firstFailed = await (
            from b in db.Backups.AsNoTracking()
            join r in db.Set<RunRecord>() on b.Id equals r.Id
            where b.TargetId == run.TargetId && b.Status == BackupStatus.Failed && b.CreatedAt > after && b.CreatedAt <= run.StartedAt
                && r.FailureKind == RunFailureKind.TargetUnreachable
            orderby b.CreatedAt
            select (DateTimeOffset?)b.CreatedAt).FirstOrDefaultAsync(ct);
        return firstFailed is { } f ? (f, IncidentTimeSource.FirstFailedBackup) : (run.StartedAt, IncidentTimeSource.RunStart);
    }

    /// <summary>RPO and RTO once every step passed: the recovery time runs to the last step that counts for it.</summary>
    public async Task<RecoveryMeasurement> MeasureAsync(RecoveryRun run, IReadOnlyCollection<RecoveryStepState> states, DateTimeOffset now, CancellationToken ct)
    {
        var defs = RecoveryScenarios.StepsOf(run.Scenario).ToDictionary(d => d.Key);
        var recovered = states.Where(s => defs.TryGetValue(s.Key, out var d) && d.CountsForRto).Max(s => s.CompletedAt) ?? now;
        var (incident, source) = await IncidentAsync(run, ct);
        // Losing the signing key loses sessions, not data: the data is recovered up to the incident itself.
        var point = run.Scenario == RecoveryScenario.SigningKeyLost ? incident : run.RecoveryPointAt;
        var rpo = point is { } p ? (incident - p < TimeSpan.Zero ? TimeSpan.Zero : incident - p) : (TimeSpan?)null;
        return new RecoveryMeasurement(incident, source, point, rpo, recovered - run.StartedAt);
    }
}
