using Hangfire;
using Hangfire.States;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>A set verification as lists show it.</summary>
public sealed record SetVerificationItem(Guid Id, Guid SetId, BackupSetVerificationStatus Status, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt,
    int Members, int Passed, int Failed, string? Error, string? RequestedBy);

/// <summary>Verifies whole sets: one verification run per kept member, queued on the members' queue (so at most
/// Sets__Parallelism restore at once per instance), and the set's verification ends, passed only when every member
/// passed, when the last of them ends on whichever instance.</summary>
public sealed class SetVerificationService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    VerificationService verifications,
    SetMembers members,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time,
    ILogger<SetVerificationService> logger) : IRunFinishedHandler
{
    public async Task<Guid> RequestAsync(Actor actor, Guid setId, VerificationTrigger trigger, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.VerifyBackup, AuditActions.SetVerificationRequested, setId.ToString(), ct);

        BackupSet set;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            set = await db.Set<BackupSet>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId, ct)
                ?? throw new KeyNotFoundException($"There is no backup set {setId}. Nothing was started.");
            if (await db.Set<BackupSetVerification>().AnyAsync(v => v.SetId == setId && v.Status == BackupSetVerificationStatus.Running, ct))
            {
                throw new InvalidOperationException($"{set.Name} is being verified already. Nothing was started.");
            }
        }

        var kept = set.Status is BackupSetStatus.Succeeded or BackupSetStatus.Partial
            ? (await members.LatestAsync(setId, ct)).Where(m => m.Kept).ToList()
            : [];
        if (kept.Count == 0)
        {
            throw new InvalidOperationException($"{set.Name} is {set.Status.ToString().ToLowerInvariant()} and holds no database to verify. Nothing was started.");
        }

        var runIds = new List<Guid>();
        foreach (var member in kept)
        {
            runIds.Add(await verifications.AcceptAsync(actor, member.BackupId, trigger, ct));
        }

        var verification = new BackupSetVerification
        {
            Id = Guid.NewGuid(),
            SetId = setId,
            TargetId = set.TargetId,
            Status = BackupSetVerificationStatus.Running,
            RequestedBy = actor.Name,
            CreatedAt = time.GetUtcNow(),
            RunIds = runIds,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Add(verification);
            await db.SaveChangesAsync(ct);
            foreach (var runId in runIds)
            {
                var jobId = jobs.Create(Hangfire.Common.Job.FromExpression<VerificationJob>(j => j.RunAsync(runId, CancellationToken.None)), new EnqueuedState(SetJobs.Queue));
                await db.Set<RunRecord>().Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, jobId), ct);
            }
        }

        await audit.RecordAsync(actor, AuditActions.SetVerificationRequested, set.Name, AuditOutcome.Succeeded, $"{runIds.Count} database(s) to restore and count; trigger {trigger}", ct);
        return verification.Id;
    }

    public async Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct)
    {
        if (finished.Kind != RunKind.Verification)
        {
            return;
        }

        Guid? id;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            id = await db.Set<BackupSetVerification>()
                .Where(v => v.Status == BackupSetVerificationStatus.Running && v.RunIds.Contains(finished.RunId))
                .Select(v => (Guid?)v.Id).FirstOrDefaultAsync(ct);
        }

        if (id is { } verificationId)
        {
            await TryFinishAsync(verificationId, ct);
        }
    }

    /// <summary>Ends the set's verification once none of its members' runs is queued or running.</summary>
    public async Task TryFinishAsync(Guid verificationId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var v = await db.Set<BackupSetVerification>().AsNoTracking().FirstAsync(x => x.Id == verificationId, ct);
        var runs = await (
            from r in db.Set<RunRecord>()
            where v.RunIds.Contains(r.Id)
            join vr in db.Set<VerificationRun>() on r.Id equals vr.Id
            select new { r.Status, r.Error, vr.BackupFileName }).ToListAsync(ct);
        if (runs.Any(r => r.Status is RunStatus.Queued or RunStatus.Running))
        {
            return;
        }

        var failed = runs.Where(r => r.Status != RunStatus.Succeeded).ToList();
        var status = failed.Count == 0 ? BackupSetVerificationStatus.Passed
            : failed.All(r => r.Status == RunStatus.Cancelled) ? BackupSetVerificationStatus.Cancelled
            : BackupSetVerificationStatus.Failed;
        var error = failed.Count == 0 ? null
            : $"{failed.Count} of {runs.Count} member(s) did not pass: {string.Join("; ", failed.Select(f => $"{f.BackupFileName} ({f.Error ?? f.Status.ToString().ToLowerInvariant()})"))}";
        if (error is { Length: > 4000 })
        {
            error = error[..3999] + "…";
        }

        // Of two instances ending the last members at once, one records the end.
        var ended = await db.Set<BackupSetVerification>().Where(x => x.Id == verificationId && x.Status == BackupSetVerificationStatus.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, status)
                .SetProperty(x => x.FinishedAt, time.GetUtcNow())
                .SetProperty(x => x.Passed, runs.Count - failed.Count)
                .SetProperty(x => x.Failed, failed.Count)
                .SetProperty(x => x.Error, error), ct);
        if (ended == 0)
        {
            return;
        }

        var setName = await db.Set<BackupSet>().Where(s => s.Id == v.SetId).Select(s => s.Name).FirstAsync(ct);
        await audit.RecordAsync(new Actor(null, v.RequestedBy ?? "system", []), AuditActions.SetVerificationFinished, setName,
            status == BackupSetVerificationStatus.Passed ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            status == BackupSetVerificationStatus.Passed ? $"All {runs.Count} member(s) restored with the row counts of their manifests." : error, ct);
        logger.LogInformation("Verification of set {Set}: {Status} ({Passed} of {Count} passed)", setName, status, runs.Count - failed.Count, runs.Count);
    }

    /// <summary>The latest verification of each of <paramref name="setIds"/>.</summary>
    public async Task<IReadOnlyDictionary<Guid, SetVerificationItem>> LatestForSetsAsync(IReadOnlyCollection<Guid> setIds, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<BackupSetVerification>().AsNoTracking().Where(v => setIds.Contains(v.SetId)).ToListAsync(ct);
        return rows.GroupBy(v => v.SetId).ToDictionary(g => g.Key, g => Item(g.MaxBy(v => v.CreatedAt)!));
    }

    public async Task<SetVerificationItem?> GetAsync(Guid verificationId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<BackupSetVerification>().AsNoTracking().Where(v => v.Id == verificationId).FirstOrDefaultAsync(ct) is { } v ? Item(v) : null;
    }

    private static SetVerificationItem Item(BackupSetVerification v) =>
        new(v.Id, v.SetId, v.Status, v.CreatedAt, v.FinishedAt, v.RunIds.Count, v.Passed, v.Failed, v.Error, v.RequestedBy);
}
