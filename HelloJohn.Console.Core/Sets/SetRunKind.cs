using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>Sets as runs. A set's run is owned by an instance only while it looks at the server and queues the members;
/// while they run it is owned by nobody, and the instance that ends the last member (or a sweep) takes it over to end it.
/// The set's status follows its run, except the ends the finisher writes itself (partial among them).</summary>
internal sealed class SetRunKind(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IServiceProvider services,
    ILogger<SetRunKind> logger) : IRunKind
{
    // Resolved when needed: they depend on the run lifecycle, which depends on every kind.
    private SetMembers Members => services.GetRequiredService<SetMembers>();

    private SetFinisher Finisher => services.GetRequiredService<SetFinisher>();

    public RunKind Kind => RunKind.BackupSet;

    public string? FinishedAuditAction => AuditActions.SetFinished;

    public async Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct) =>
        await db.Set<BackupSet>().Where(s => s.CurrentRunId == run.Id || s.Id == run.Id).Select(s => s.Name).FirstOrDefaultAsync(ct) ?? run.Id.ToString();

    public async Task OnStatusChangedAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct)
    {
        var set = db.Set<BackupSet>().Where(s => s.CurrentRunId == run.Id);
        switch (run.Status)
        {
            case RunStatus.Running:
                await set.Where(s => s.Status == BackupSetStatus.Queued)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, BackupSetStatus.Running).SetProperty(x => x.StartedAt, x => x.StartedAt ?? run.StartedAt), ct);
                break;
            case RunStatus.Failed or RunStatus.Cancelled:
                // Ended before the finisher wrote its own end (cancelled while queued, its owner lost early on).
                var status = run.Status == RunStatus.Failed ? BackupSetStatus.Failed : BackupSetStatus.Cancelled;
                await set.Where(s => s.Status == BackupSetStatus.Queued || s.Status == BackupSetStatus.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, status).SetProperty(x => x.Error, run.Error).SetProperty(x => x.FinishedAt, run.FinishedAt), ct);
                break;
            default:
                break;
        }
    }

    /// <summary>The instance died while it started the set. Once its members exist the set goes on without it (members
    /// it had not queued yet are queued now); before that, nothing was dumped and the set ends.</summary>
    public async Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        Guid? setId;
        List<Guid> unqueued;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            setId = await db.Set<BackupSet>().Where(s => s.CurrentRunId == run.Id).Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct);
            unqueued = setId is null ? [] : await (
                from b in db.Backups
                join r in db.Set<RunRecord>() on b.Id equals r.Id
                where b.SetId == setId && r.Status == RunStatus.Queued && r.JobId == null
                select b.Id).ToListAsync(ct);
            if (setId is null || !await db.Backups.AnyAsync(b => b.SetId == setId && b.CreatedAt >= run.StartedAt, ct))
            {
                return new AbandonedRunCleanup("No database of the set was dumped; take a new set.");
            }
        }

        await Members.EnqueueAsync(unqueued, ct);
        logger.LogWarning("Set run {RunId} lost its instance after its members were created; {Count} member(s) queued now", run.Id, unqueued.Count);
        return new AbandonedRunCleanup("Its databases were already queued; the set goes on and ends with its last member.", EndsRun: false);
    }

    /// <summary>Ends sets whose members all ended without the last one ending the set (its instance died at that moment).</summary>
    public async Task TidyAsync(CancellationToken ct)
    {
        List<Guid> waiting;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            waiting = await (
                from s in db.Set<BackupSet>()
                join r in db.Set<RunRecord>() on s.CurrentRunId equals r.Id
                where s.Status == BackupSetStatus.Running && r.Status == RunStatus.Running && r.OwnerInstanceId == null
                select s.Id).ToListAsync(ct);
        }

        foreach (var setId in waiting)
        {
            await Finisher.TryFinishAsync(setId, ct);
        }
    }
}
