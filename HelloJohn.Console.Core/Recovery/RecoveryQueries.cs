using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Reads recovery runs as the pages show them: one run with its steps, instructions and log (never a secret),
/// the list of runs, the active run to resume, the last drill.</summary>
public sealed class RecoveryQueries(IDbContextFactory<ConsoleDbContext> dbFactory, TargetService targets, RecoveryConnectionVault vault)
{
    private const int MaxLogLinesShown = 2000;

    public async Task<RecoveryRunView?> GetAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Set<RecoveryRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null)
        {
            return null;
        }

        var target = await targets.GetAsync(run.TargetId, ct);
        var states = await db.Set<RecoveryStepState>().AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Position).ToListAsync(ct);
        var log = await db.Set<RecoveryLogLine>().AsNoTracking().Where(l => l.RunId == runId).OrderByDescending(l => l.Id).Take(MaxLogLinesShown)
            .Select(l => new RecoveryLogView(l.Id, l.StepKey, l.At, l.Level, l.Text)).ToListAsync(ct);
        log.Reverse();
        string? masked = null;
        if (vault.Unprotect(run) is { } connection)
        {
            masked = RecoveryConnectionVault.Masked(connection);
        }

        var defs = RecoveryScenarios.StepsOf(run.Scenario).ToDictionary(d => d.Key);
        var current = run.Status == RecoveryRunStatus.Active ? states.FirstOrDefault(s => s.Status != RecoveryStepStatus.Passed)?.Key : null;
        var instructionContext = new RecoveryInstructionContext(run, target, masked);
        var steps = states.Where(s => defs.ContainsKey(s.Key)).Select(s =>
        {
            var d = defs[s.Key];
            return new RecoveryStepView(s.Position, s.Key, d.Title, s.Status, s.Key == current, d.IsManual, d.RunsAsJob, d.ActionLabel, d.ManualReason, d.ExtraPermission,
                d.Instructions(instructionContext), d.Inputs, s.Message, s.StartedAt, s.CompletedAt, s.CompletedBy, s.MarkedDoneByHand, s.Attempts);
        }).ToList();
        return new RecoveryRunView(Summary(run, target.Name, states.Count(s => s.Status == RecoveryStepStatus.Passed), states.Count), steps, log, masked,
            run.NewServerVersion, HealthProbe.UrlOf(run, target), run.SigningKeyFingerprint, run.PointInTimeTarget, run.PointInTimeZone, run.ScratchDatabase);
    }

    public async Task<RecoveryRunPage> ListAsync(RecoveryRunQuery query, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<RecoveryRun>().AsNoTracking();
        if (query.TargetId is { } t)
        {
            q = q.Where(r => r.TargetId == t);
        }

        if (query.Scenario is { } s)
        {
            q = q.Where(r => r.Scenario == s);
        }

        var total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(r => r.StartedAt).Skip(query.Page * query.PageSize).Take(query.PageSize)
            .Select(r => new
            {
                Run = r,
                TargetName = r.Target!.Name,
                Passed = db.Set<RecoveryStepState>().Count(x => x.RunId == r.Id && x.Status == RecoveryStepStatus.Passed),
                Count = db.Set<RecoveryStepState>().Count(x => x.RunId == r.Id),
            }).ToListAsync(ct);
        return new RecoveryRunPage([.. rows.Select(r => Summary(r.Run, r.TargetName, r.Passed, r.Count))], total);
    }

    /// <summary>The active run of a scenario for a target, to resume; null when there is none.</summary>
    public async Task<Guid?> FindActiveAsync(Guid targetId, RecoveryScenario scenario, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<RecoveryRun>().AsNoTracking()
            .Where(r => r.TargetId == targetId && r.Scenario == scenario && r.Status == RecoveryRunStatus.Active)
            .Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
    }

    /// <summary>The newest finished drill (completed or failed), of one target or of any.</summary>
    public async Task<LastDrill?> GetLastDrillAsync(Guid? targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<RecoveryRun>().AsNoTracking()
            .Where(r => r.Scenario == RecoveryScenario.Drill && (r.Status == RecoveryRunStatus.Completed || r.Status == RecoveryRunStatus.Failed));
        if (targetId is { } t)
        {
            q = q.Where(r => r.TargetId == t);
        }

        return await q.OrderByDescending(r => r.EndedAt)
            .Select(r => new LastDrill(r.Id, r.TargetId, r.Target!.Name, r.StartedAt, r.EndedAt, r.Status, r.Rto, r.Rpo, r.BackupFileName, r.EndReason))
            .FirstOrDefaultAsync(ct);
    }

    private static RecoveryRunSummary Summary(RecoveryRun r, string targetName, int passed, int count) => new(
        r.Id, r.Scenario, RecoveryScenarios.Info(r.Scenario).Title, r.TargetId, targetName, r.Provider, r.Status, r.StartedBy, r.StartedAt, r.EndedAt, r.EndReason,
        r.IncidentAt, r.IncidentSource, r.BackupFileName, r.RecoveryPointAt, r.Rpo, r.Rto, passed, count);
}
