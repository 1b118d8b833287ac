using System.Globalization;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Everything the Point-in-time page shows for one server.</summary>
public sealed record PitrOverview(
    TargetSummary Target,
    bool Enabled,
    PitrServerState? State,
    RecoverableWindow Window,
    IReadOnlyList<BaseBackupRecord> BaseBackups,
    IReadOnlyList<PitrRestoreRecord> Restores,
    DateTimeOffset MeasuredAt)
{
    /// <summary>Live RPO: how much committed work would be lost now (now − newest commit the console holds).</summary>
    public TimeSpan? Rpo => State?.NewestCommitAt is { } at ? MeasuredAt - at : null;
}

/// <summary>A restore-to-time request as the form sends it.</summary>
public sealed record PitrRestoreRequest(Guid Server, string? Time, string? Zone, PitrRestoreMode Mode, string? DataDirectory, int? Port);

/// <summary>The point-in-time feature as the UI and the API use it: checks the caller's role, audits every change,
/// queues the work as jobs.</summary>
public sealed class PitrService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    PitrConnections connections,
    PitrCatalog catalog,
    PitrRestorePlanner planner,
    RestoredServers restoredServers,
    IBaseBackupRequester baseBackups,
    PitrStateStore state,
    RunLifecycle lifecycle,
    RunCancellation cancellation,
    PitrNotifier notifier,
    IAuditLog audit,
    CallerGate gate,
    IOptionsMonitor<PitrOptions> options,
    TimeProvider time,
    ILogger<PitrService> logger)
{
    public async Task<IReadOnlyList<TargetSummary>> ServersAsync(CancellationToken ct) =>
        (await targets.ListAsync(ct)).Where(PitrConnections.IsEligible).ToList();

    public async Task<PitrOverview> GetOverviewAsync(Guid server, CancellationToken ct)
    {
        var target = await targets.GetAsync(server, ct);
        var snapshot = await catalog.LoadAsync(server, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var restores = await db.Set<PitrRestoreRecord>().AsNoTracking().Include(r => r.Run).Where(r => r.TargetId == server)
            .OrderByDescending(r => r.Run!.CreatedAt).Take(10).ToListAsync(ct);
        return new PitrOverview(target, options.CurrentValue.Enabled && PitrConnections.IsEligible(target), snapshot.State, snapshot.Window,
            snapshot.BaseBackups.Take(20).ToList(), restores, time.GetUtcNow());
    }

    /// <summary>Reads the server's settings and slot and judges them. A slot over the alarm threshold is logged as an
    /// error each time it is seen, so log-based alerting catches it even with no page open.</summary>
    public async Task<PitrReadinessReport> CheckReadinessAsync(Guid server, CancellationToken ct)
    {
        var connection = await connections.ReplicationAsync(server, ct);
        var facts = await PitrReadiness.GatherAsync(connection, connections.SlotName(server), ct);
        var report = PitrReadiness.Evaluate(facts, options.CurrentValue.SlotAlarmBytes, time.GetUtcNow());
        if (report.SlotAlarm)
        {
            logger.LogError("PITR alarm for server {Server}: slot {Slot} makes the server keep {Bytes} bytes of WAL (threshold {Threshold})",
                server, facts.SlotName, facts.SlotRetainedBytes, options.CurrentValue.SlotAlarmBytes);
        }

        return report;
    }

    public async Task<Guid> TakeBaseBackupAsync(Actor actor, Guid server, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RunBackup, AuditActions.PitrBaseBackupRequested, server.ToString(), ct);

        var target = await targets.GetAsync(server, ct);

        var id = await baseBackups.RequestAsync(server, $"requested by {actor.Name}", ct, actor.Name, actor.UserId);
        await audit.RecordAsync(actor, AuditActions.PitrBaseBackupRequested, target.Name, AuditOutcome.Succeeded, $"Base backup {id} queued.", ct);
        return id;
    }

    /// <summary>Stops (or resumes) streaming for a server on every instance. Stopping lets the slot hold WAL on the
    /// server: the readiness panel's alarm watches it.</summary>
    public async Task SetPausedAsync(Actor actor, Guid server, bool paused, CancellationToken ct)
    {
        var action = paused ? AuditActions.PitrStreamingPaused : AuditActions.PitrStreamingResumed;
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSettings, action, server.ToString(), ct);

        var target = await targets.GetAsync(server, ct);

        await state.UpdateAsync(server, s =>
        {
            s.Paused = paused;
            s.Reason = paused ? $"Streaming stopped by {actor.Name}." : null;
        }, ct);
        await audit.RecordAsync(actor, action, target.Name, AuditOutcome.Succeeded, paused ? "WAL streaming stopped; the slot keeps WAL on the server until it resumes." : "WAL streaming resumes.", ct);
    }

    /// <summary>Checks the request (time with zone, inside the window, empty directory, free port) and queues the
    /// restore. Bad input throws <see cref="PitrInputException"/> and nothing is queued.</summary>
    public async Task<Guid> RequestRestoreAsync(Actor actor, PitrRestoreRequest request, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, AuditActions.PitrRestoreRequested, request.Server.ToString(), ct);

        var target = await targets.GetAsync(request.Server, ct);

        PitrRestorePlan plan;
        try
        {
            plan = await planner.PlanAsync(request.Server, request.Time, request.Zone, request.Mode, request.DataDirectory, request.Port, ct);
            await restoredServers.RefuseTakenPortAsync(plan.Port, ct);
        }
        catch (PitrInputException e)
        {
            await audit.RecordAsync(actor, AuditActions.PitrRestoreRequested, target.Name, AuditOutcome.Failed, e.Message, ct);
            throw;
        }

        var run = lifecycle.NewRun(RunKind.PitrRestore, request.Server, actor);
        var record = new PitrRestoreRecord
        {
            Id = run.Id,
            TargetId = request.Server,
            TargetTime = plan.TargetUtc,
            Zone = plan.Zone,
            Mode = plan.Mode,
            DataDirectory = plan.DataDirectory,
            Port = plan.Port,
            BaseBackupId = plan.BaseBackup.Id,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Add(run);
            db.Add(record);
            await db.SaveChangesAsync(ct);
        }

        lifecycle.Queued(run);
        await lifecycle.EnqueueAsync<PitrRestoreJob>(run.Id, j => j.RunAsync(run.Id, CancellationToken.None), ct);
        notifier.Publish(request.Server);
        await audit.RecordAsync(actor, AuditActions.PitrRestoreRequested, target.Name, AuditOutcome.Succeeded,
            string.Create(CultureInfo.InvariantCulture, $"{plan.Mode} restore to {plan.TargetUtc:yyyy-MM-dd HH:mm:ss} UTC ({plan.Zone}) into {plan.DataDirectory} on port {plan.Port}, from base backup {plan.BaseBackup.Id}."), ct);
        return record.Id;
    }

    public async Task<PitrRestoreRecord?> GetRestoreAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<PitrRestoreRecord>().AsNoTracking().Include(r => r.Run).FirstOrDefaultAsync(r => r.Id == id, ct);
    }

    /// <summary>Stops a queued or running base backup, here or on the instance that runs it: pg_basebackup is stopped
    /// and nothing of it stays stored.</summary>
    public async Task<RunCancelResult> CancelBaseBackupAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.CancelBackup, AuditActions.PitrBaseBackupCancelled, backupId.ToString(), ct);
        BaseBackupRecord record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Set<BaseBackupRecord>().AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId, ct)
                ?? throw new KeyNotFoundException($"There is no base backup {backupId}. Nothing was cancelled.");
        }

        if (record.Status is not (BaseBackupStatus.Queued or BaseBackupStatus.Running))
        {
            throw new InvalidOperationException($"The base backup is {record.Status.ToString().ToLowerInvariant()}; only a queued or running one can be cancelled. Nothing was changed.");
        }

        var result = await cancellation.CancelAsync(backupId, actor, new RunCancelTexts(AuditActions.PitrBaseBackupCancelled,
            $"base backup {backupId:N}", "Nothing was copied or stored.", "pg_basebackup is stopped and nothing of it is stored."), ct);
        notifier.Publish(record.TargetId);
        return result;
    }

    /// <summary>Stops a queued or running point-in-time restore, here or on the instance that runs it: the server it
    /// started is stopped and what it wrote removed (the directory too when the restore created it).</summary>
    public async Task<RunCancelResult> CancelRestoreAsync(Actor actor, Guid restoreId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, AuditActions.PitrRestoreCancelled, restoreId.ToString(), ct);
        var record = await GetRestoreAsync(restoreId, ct) ?? throw new KeyNotFoundException($"There is no point-in-time restore {restoreId}. Nothing was cancelled.");
        if (!record.Run!.IsActive)
        {
            throw new InvalidOperationException($"The restore into {record.DataDirectory} has already {record.Run.Status.ToString().ToLowerInvariant()}; only a queued or running one can be cancelled. Nothing was changed.");
        }

        var result = await cancellation.CancelAsync(restoreId, actor, new RunCancelTexts(AuditActions.PitrRestoreCancelled, record.DataDirectory,
            $"{record.DataDirectory} was not touched.", "the restored server is stopped and what the restore wrote is removed."), ct);
        notifier.Publish(record.TargetId);
        return result;
    }
}
