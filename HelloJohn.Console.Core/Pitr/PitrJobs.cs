using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Security;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Runs a queued point-in-time restore and keeps its record. Minimal on purpose: the restore becomes a run
/// kind of the shared run lifecycle.</summary>
public sealed class PitrRestoreExecution(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    PitrRestorePlanner planner,
    PointInTimeRestoreEngine engine,
    IAuditLog audit,
    PitrNotifier notifier,
    TimeProvider time)
{
    public async Task RunAsync(Guid restoreId, CancellationToken ct)
    {
        PitrRestoreRecord record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Only the delivery of the job that moves the record out of Queued restores (Hangfire may deliver twice).
            var claimed = await db.Set<PitrRestoreRecord>().Where(r => r.Id == restoreId && r.Status == PitrRestoreStatus.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, PitrRestoreStatus.Running), ct);
            record = await db.Set<PitrRestoreRecord>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == restoreId, ct)
                ?? throw new KeyNotFoundException($"There is no point-in-time restore {restoreId}.");
            if (claimed == 0)
            {
                return;
            }
        }

        var actor = new Actor(null, record.RequestedBy, []);
        try
        {
            var plan = await planner.PlanAtAsync(record.TargetId, record.TargetTime, record.Zone, record.Mode, record.DataDirectory, record.Port, ct);
            var progress = new Progress<string>(phase => _ = SaveAsync(restoreId, r => r.Phase = phase));
            var result = await engine.RestoreAsync(plan, progress, ct);
            await SaveAsync(restoreId, r =>
            {
                r.Status = PitrRestoreStatus.Succeeded;
                r.Phase = result.Promoted ? "Promoted: a new primary" : "Paused at the target (read only)";
                r.StoppedAt = result.StoppedAt;
                r.RowCounts = string.Join('\n', result.RowCounts.Select(c => $"{c.Database}.{c.Schema}.{c.Table} {c.Rows}"));
                r.NextSteps = string.Join('\n', result.NextSteps);
                r.FinishedAt = time.GetUtcNow();
            });
            await audit.RecordAsync(actor, AuditActions.PitrRestoreFinished, record.DataDirectory, AuditOutcome.Succeeded, $"Port {result.Port}: {result.StoppedAt}", CancellationToken.None);
        }
        catch (Exception e)
        {
            var message = e is OperationCanceledException ? "Cancelled: the console stopped or the job was cancelled. The new directory was removed." : e.Message;
            await SaveAsync(restoreId, r => { r.Status = PitrRestoreStatus.Failed; r.Error = message; r.FinishedAt = time.GetUtcNow(); });
            await audit.RecordAsync(actor, AuditActions.PitrRestoreFinished, record.DataDirectory, AuditOutcome.Failed, message, CancellationToken.None);
            throw;
        }
    }

    private async Task SaveAsync(Guid id, Action<PitrRestoreRecord> change)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var row = await db.Set<PitrRestoreRecord>().FirstAsync(r => r.Id == id, CancellationToken.None);
        change(row);
        await db.SaveChangesAsync(CancellationToken.None);
        notifier.Publish(row.TargetId);
    }
}

/// <summary>Thin Hangfire job: a point-in-time restore by id.</summary>
public sealed class PitrRestoreJob(PitrRestoreExecution execution)
{
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid restoreId, CancellationToken ct) => execution.RunAsync(restoreId, ct);
}

/// <summary>Thin Hangfire job: the scheduled base backup of every protected server.</summary>
public sealed class ScheduledBaseBackupsJob(PitrConnections connections, IBaseBackupRequester requester)
{
    public const string RecurringId = "pitr-base-backups";

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var server in await connections.ProtectedAsync(ct))
        {
            await requester.RequestAsync(server.Id, "scheduled", ct);
        }
    }
}

/// <summary>Registers (or removes) the recurring base backup job under its stable id.</summary>
internal sealed class PitrStartupTask(IRecurringJobManager recurring, IOptions<PitrOptions> options) : IConsoleStartupTask
{
    public Task RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (o.Enabled && !string.IsNullOrWhiteSpace(o.BaseBackupCron))
        {
            recurring.AddOrUpdate<ScheduledBaseBackupsJob>(ScheduledBaseBackupsJob.RecurringId, j => j.RunAsync(CancellationToken.None), o.BaseBackupCron,
                new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        }
        else
        {
            recurring.RemoveIfExists(ScheduledBaseBackupsJob.RecurringId);
        }

        return Task.CompletedTask;
    }
}
