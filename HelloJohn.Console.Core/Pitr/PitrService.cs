using System.Globalization;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Hangfire;
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
    IBackgroundJobClient jobs,
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
        var restores = await db.Set<PitrRestoreRecord>().AsNoTracking().Where(r => r.TargetId == server).OrderByDescending(r => r.RequestedAt).Take(10).ToListAsync(ct);
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

        var id = await baseBackups.RequestAsync(server, $"requested by {actor.Name}", ct);
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

        var record = new PitrRestoreRecord
        {
            Id = Guid.NewGuid(),
            TargetId = request.Server,
            RequestedBy = actor.Name,
            RequestedAt = time.GetUtcNow(),
            TargetTime = plan.TargetUtc,
            Zone = plan.Zone,
            Mode = plan.Mode,
            DataDirectory = plan.DataDirectory,
            Port = plan.Port,
            Status = PitrRestoreStatus.Queued,
            BaseBackupId = plan.BaseBackup.Id,
            Phase = "Queued",
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Add(record);
            await db.SaveChangesAsync(ct);
        }

        jobs.Enqueue<PitrRestoreJob>(j => j.RunAsync(record.Id, CancellationToken.None));
        await audit.RecordAsync(actor, AuditActions.PitrRestoreRequested, target.Name, AuditOutcome.Succeeded,
            string.Create(CultureInfo.InvariantCulture, $"{plan.Mode} restore to {plan.TargetUtc:yyyy-MM-dd HH:mm:ss} UTC ({plan.Zone}) into {plan.DataDirectory} on port {plan.Port}, from base backup {plan.BaseBackup.Id}."), ct);
        return record.Id;
    }

    public async Task<PitrRestoreRecord?> GetRestoreAsync(Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<PitrRestoreRecord>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
    }
}
