using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Proves backups restore: each run restores one backup into <c>hellojohn_verify_&lt;unix time&gt;</c>,
/// counts every table it holds, compares with the manifest and always drops the database again. Requests and reads
/// are here; the work is the <see cref="VerificationRunner"/>'s.</summary>
public sealed class VerificationService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    VerificationRunner runner,
    VerificationRunQueries queries,
    RunLifecycle lifecycle,
    RunCancellation cancellation,
    IAuditLog audit,
    CallerGate gate,
    IOptionsMonitor<VerificationOptions> options)
{
    /// <summary>Queues a verification of <paramref name="backupId"/> as a background job.</summary>
    public async Task<Guid> RequestAsync(Actor actor, Guid backupId, VerificationTrigger trigger, CancellationToken ct)
    {
        var runId = await AcceptAsync(actor, backupId, trigger, ct);
        await lifecycle.EnqueueAsync<VerificationJob>(runId, j => j.RunAsync(runId, CancellationToken.None), ct);
        return runId;
    }

    /// <summary>Verifies in the caller and returns the finished run, passed or not.</summary>
    public async Task<VerificationRunDetails> VerifyAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        var runId = await AcceptAsync(actor, backupId, VerificationTrigger.Manual, ct);
        try
        {
            await RunAsync(runId, ct);
        }
        catch (VerificationFailedException)
        {
            // The run records why; the caller reads it from the details.
        }

        return (await GetAsync(runId, CancellationToken.None))!;
    }

    /// <summary>Verifies the newest finished backup of a target: the weekly recurring job.</summary>
    public async Task VerifyNewestAsync(Guid targetId, CancellationToken ct)
    {
        Guid? newest;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            newest = await db.Backups.Where(b => b.TargetId == targetId && b.Status == BackupStatus.Succeeded)
                .OrderByDescending(b => b.CreatedAt).Select(b => (Guid?)b.Id).FirstOrDefaultAsync(ct);
        }

        if (newest is null)
        {
            var target = await targets.GetAsync(targetId, ct);
            throw new InvalidOperationException($"The weekly verification of {target.Name} found no finished backup to verify. Take a backup first.");
        }

        var runId = await AcceptAsync(Actor.System, newest.Value, VerificationTrigger.Scheduled, ct);
        await RunAsync(runId, ct);
    }

    /// <summary>Checks the caller and the backup and records the queued run, without queueing its job (a set's
    /// verification queues its members' on the members' queue).</summary>
    internal async Task<Guid> AcceptAsync(Actor actor, Guid backupId, VerificationTrigger trigger, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.VerifyBackup, AuditActions.VerificationRequested, backupId.ToString(), ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var backup = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId, ct);
        if (backup is null || backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            var why = backup is null
                ? $"There is no backup {backupId} in the catalog."
                : $"{backup.FileName} is {backup.Status.ToString().ToLowerInvariant()}; only a finished backup can be verified.";
            await audit.RecordAsync(actor, AuditActions.VerificationRequested, backup?.FileName ?? backupId.ToString(), AuditOutcome.Failed, why, ct);
            throw new InvalidOperationException(why + " Nothing was started.");
        }

        if (options.CurrentValue.EffectiveRestoreInto == VerificationServerChoice.TargetServer &&
            await targets.GetAsync(backup.TargetId, ct) is { Source: TargetConnectionSource.Unset } unconnected)
        {
            // Verifications are set to restore on the target's own server, which this target cannot reach.
            var why = $"The target '{unconnected.Name}' has no connection (it was re-created by a catalog rebuild), and Verification__RestoreInto puts verifications on the target's own server. " +
                "An administrator gives it its connection under Settings → Targets, or verifications restore into the console's scratch cluster (the default).";
            await audit.RecordAsync(actor, AuditActions.VerificationRequested, backup.FileName, AuditOutcome.Failed, why, ct);
            throw new InvalidOperationException(why + " Nothing was started.");
        }

        var run = lifecycle.NewRun(RunKind.Verification, backup.TargetId, actor, nameof(Restores.RestorePhase.Queued));
        db.AddRange(run, new VerificationRun
        {
            Id = run.Id,
            BackupId = backup.Id,
            BackupFileName = backup.FileName,
            Trigger = trigger,
            Jobs = options.CurrentValue.EffectiveJobs,
        });
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.VerificationRequested, backup.FileName, AuditOutcome.Succeeded, $"trigger {trigger}", ct);
        lifecycle.Queued(run);
        return run.Id;
    }

    /// <summary>Runs a queued verification. Re-entrant: a run that is no longer queued is left alone. Throws
    /// <see cref="VerificationFailedException"/> when it did not pass.</summary>
    public Task RunAsync(Guid runId, CancellationToken ct) => runner.RunAsync(runId, ct);

    /// <summary>Stops a queued or running verification, here or on the instance that runs it. A running one stops
    /// pg_restore, drops its throw-away database and ends as cancelled; a queued one ends before it starts. Whoever
    /// may verify may cancel.</summary>
    public async Task<RunCancelResult> CancelAsync(Actor actor, Guid runId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.VerifyBackup, AuditActions.VerificationCancelled, runId.ToString(), ct);

        VerificationRun run;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            run = await db.Set<VerificationRun>().AsNoTracking().Include(r => r.Run).FirstOrDefaultAsync(r => r.Id == runId, ct)
                ?? throw new KeyNotFoundException($"There is no verification run {runId}. Nothing was cancelled.");
        }

        if (run.Run!.Status is not (RunStatus.Queued or RunStatus.Running))
        {
            throw new InvalidOperationException(
                $"The verification of {run.BackupFileName} has already {((VerificationStatus)run.Run.Status).ToString().ToLowerInvariant()}; only a queued or running one can be cancelled. Nothing was changed.");
        }

        return await cancellation.CancelAsync(runId, actor, new RunCancelTexts(AuditActions.VerificationCancelled, run.BackupFileName,
            "No database was created.", "pg_restore is stopped and the throw-away database dropped."), ct);
    }

    public Task<VerificationRunPage> QueryAsync(int page, int pageSize, Guid? backupId, CancellationToken ct) => queries.QueryAsync(page, pageSize, backupId, ct);

    public Task<VerificationRunDetails?> GetAsync(Guid runId, CancellationToken ct) => queries.GetAsync(runId, ct);

    /// <summary>The latest verification outcome of each backup, for the badges in the Backups grid.</summary>
    public Task<IReadOnlyDictionary<Guid, VerificationBadge>> LatestForBackupsAsync(IReadOnlyCollection<Guid> backupIds, CancellationToken ct) =>
        queries.LatestForBackupsAsync(backupIds, ct);
}
