using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Sets;

/// <summary>Backup sets: taking one of a deployment (queued as a run; its members run as backup jobs wherever a worker is
/// free), retrying only its failed members, cancelling it, pinning it, and reading sets.</summary>
public sealed class SetService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    RunLifecycle lifecycle,
    RunCancellation cancellation,
    BackupService backups,
    SetMembers members,
    SetQueries queries,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time)
{
    /// <summary>Queues a set of the deployment <paramref name="targetId"/> (the default one when null). Returns its id.</summary>
    public async Task<Guid> RequestAsync(Actor actor, Guid? targetId, BackupTrigger trigger, CancellationToken ct)
    {
        actor = await DemandAsync(actor, ConsolePermission.RunBackup, AuditActions.SetRequested, targetId?.ToString(), ct);
        var target = targetId is { } id ? await targets.GetAsync(id, ct) : await targets.GetDefaultAsync(ct)
            ?? throw new InvalidOperationException("No HelloJohn deployment is configured to back up. Set HELLOJOHN_DATABASE_URL or add one under Settings.");
        if (target.Source == TargetConnectionSource.Unset)
        {
            throw new InvalidOperationException($"{target.Name} has no connection (it was re-created by a catalog rebuild, or removed). Nothing was backed up; give it a connection under Settings → Deployments.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        for (var attempt = 1; ; attempt++)
        {
            var name = SetNaming.SetName(now, attempt);
            if (await db.Set<BackupSet>().AnyAsync(s => s.Name == name, ct))
            {
                continue;
            }

            var run = lifecycle.NewRun(RunKind.BackupSet, target.Id, actor, SetPhase.Queued);
            var set = new BackupSet
            {
                Id = run.Id,
                CurrentRunId = run.Id,
                TargetId = target.Id,
                Name = name,
                Status = BackupSetStatus.Queued,
                Trigger = trigger,
                RequestedBy = actor.Name,
                CreatedAt = run.CreatedAt,
            };
            db.AddRange(run, set);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && attempt < 100)
            {
                db.ChangeTracker.Clear();
                continue;
            }

            await lifecycle.EnqueueAsync<SetJobs>(run.Id, j => j.RunAsync(run.Id, CancellationToken.None), ct);
            await audit.RecordAsync(actor, AuditActions.SetRequested, $"{target.Name}: {name}", AuditOutcome.Succeeded, $"trigger {trigger}", ct);
            lifecycle.Queued(run);
            return set.Id;
        }
    }

    /// <summary>Runs again only the members of a finished set that failed (and the roles, if they were not kept), as a
    /// new run of the same set. Returns that run's id.</summary>
    public async Task<Guid> RetryFailedAsync(Actor actor, Guid setId, CancellationToken ct)
    {
        actor = await DemandAsync(actor, ConsolePermission.RunBackup, AuditActions.SetRetried, setId.ToString(), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var set = await db.Set<BackupSet>().FirstOrDefaultAsync(s => s.Id == setId, ct)
            ?? throw new KeyNotFoundException($"There is no backup set {setId}. Nothing was run.");
        if (set.Status is not (BackupSetStatus.Partial or BackupSetStatus.Failed or BackupSetStatus.Cancelled))
        {
            throw new InvalidOperationException($"{set.Name} is {set.Status.ToString().ToLowerInvariant()}; only a partial, failed or cancelled set has members to retry. Nothing was run.");
        }

        var failed = await members.FailedDatabasesAsync(setId, ct);
        var neverStarted = failed.Count == 0 && !await db.Backups.AnyAsync(b => b.SetId == setId, ct);
        if (neverStarted)
        {
            throw new InvalidOperationException($"{set.Name} never reached its databases ({set.Error}). Take a new set instead; nothing was run.");
        }

        if (failed.Count == 0 && !set.RolesFailed)
        {
            throw new InvalidOperationException($"Every member of {set.Name} was kept; there is nothing to retry.");
        }

        var run = lifecycle.NewRun(RunKind.BackupSet, set.TargetId, actor, SetPhase.Queued);
        db.Add(run);
        set.CurrentRunId = run.Id;
        set.Status = BackupSetStatus.Queued;
        set.CancelledBy = null;
        set.FinishedAt = null;
        await db.SaveChangesAsync(ct);
        await lifecycle.EnqueueAsync<SetJobs>(run.Id, j => j.RunAsync(run.Id, CancellationToken.None), ct);
        await audit.RecordAsync(actor, AuditActions.SetRetried, set.Name, AuditOutcome.Succeeded,
            $"Retrying {(failed.Count == 0 ? "the roles" : string.Join(", ", failed))}{(set.RolesFailed && failed.Count > 0 ? " and the roles" : "")}.", ct);
        lifecycle.Queued(run);
        return run.Id;
    }

    /// <summary>Stops a queued or running set: before its members exist, like any run; once they run, each queued or
    /// running member is cancelled and the set ends cancelled when the last has stopped (members already kept stay).</summary>
    public async Task<RunCancelResult> CancelAsync(Actor actor, Guid setId, CancellationToken ct)
    {
        actor = await DemandAsync(actor, ConsolePermission.CancelBackup, AuditActions.SetCancelled, setId.ToString(), ct);
        BackupSet set;
        RunRecord run;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            set = await db.Set<BackupSet>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId, ct) ?? throw new KeyNotFoundException($"There is no backup set {setId}. Nothing was cancelled.");
            run = await db.Set<RunRecord>().AsNoTracking().SingleAsync(r => r.Id == set.CurrentRunId, ct);
        }

        if (!set.IsActive)
        {
            throw new InvalidOperationException($"{set.Name} is {set.Status.ToString().ToLowerInvariant()}; only a queued or running set can be cancelled. Nothing was changed.");
        }

        if (run.Status == RunStatus.Queued || run.OwnerInstanceId is not null)
        {
            return await cancellation.CancelAsync(run.Id, actor,
                new RunCancelTexts(AuditActions.SetCancelled, set.Name, "No database was dumped.", "It stops before its databases are dumped."), ct);
        }

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Set<BackupSet>().Where(s => s.Id == setId).ExecuteUpdateAsync(s => s.SetProperty(x => x.CancelledBy, actor.Name), ct);
        }

        var stopping = 0;
        foreach (var member in (await members.LatestAsync(setId, ct)).Where(m => m.Active))
        {
            try
            {
                await backups.CancelAsync(actor, member.BackupId, ct);
                stopping++;
            }
            catch (InvalidOperationException)
            {
                // It ended meanwhile.
            }
        }

        var message = $"{stopping} database(s) still queued or running are being stopped; the ones already kept stay. The set ends cancelled once they have.";
        await audit.RecordAsync(actor, AuditActions.SetCancelled, set.Name, AuditOutcome.Succeeded, message, ct);
        return new RunCancelResult(RunCancelOutcome.Stopping, message);
    }

    /// <summary>Pins a set (retention keeps all of it until it is unpinned) or unpins it.</summary>
    public async Task PinAsync(Actor actor, Guid setId, bool pinned, CancellationToken ct)
    {
        actor = await DemandAsync(actor, ConsolePermission.PinBackup, AuditActions.SetPinned, setId.ToString(), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var set = await db.Set<BackupSet>().FirstOrDefaultAsync(s => s.Id == setId, ct)
            ?? throw new KeyNotFoundException($"There is no backup set {setId}; nothing was changed.");
        if (set.Status is not (BackupSetStatus.Succeeded or BackupSetStatus.Partial))
        {
            throw new InvalidOperationException($"{set.Name} is {set.Status.ToString().ToLowerInvariant()}, so it has no files to keep; only a finished set can be pinned. Nothing was changed.");
        }

        set.Pinned = pinned;
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.SetPinned, set.Name, AuditOutcome.Succeeded,
            pinned ? "Pinned: retention keeps the whole set until it is unpinned." : "Unpinned: retention treats it like any other set again.", ct);
    }

    public Task<BackupSetPage> QueryAsync(BackupSetQuery query, CancellationToken ct) => queries.QueryAsync(query, ct);

    public Task<BackupSetDetails?> GetAsync(Guid setId, CancellationToken ct) => queries.GetAsync(setId, ct);

    private Task<Actor> DemandAsync(Actor actor, ConsolePermission permission, string action, string? subject, CancellationToken ct) =>
        gate.DemandAsync(actor, permission, action, subject, ct);
}
