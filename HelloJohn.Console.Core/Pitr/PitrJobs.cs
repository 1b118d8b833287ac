using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Runs;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Runs a queued point-in-time restore as a run: claims it, reports its phases, and ends it with the restore's
/// record (where recovery stopped, the row counts, the next steps) written in the same transaction. A failed or
/// cancelled restore stops the server it started and removes what it wrote.</summary>
public sealed class PitrRestoreExecution(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    PitrRestorePlanner planner,
    PointInTimeRestoreEngine engine,
    RunLifecycle lifecycle,
    PitrNotifier notifier,
    ILogger<PitrRestoreExecution> logger)
{
    public const string PlanningPhase = "Checking the window";

    public async Task RunAsync(Guid restoreId, CancellationToken ct)
    {
        PitrRestoreRecord record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Set<PitrRestoreRecord>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == restoreId, ct)
                ?? throw new KeyNotFoundException($"There is no point-in-time restore {restoreId}.");
        }

        // Only the delivery of the job that claims the queued run restores (Hangfire may deliver twice).
        var claim = await lifecycle.ClaimAsync(restoreId, PlanningPhase, ct);
        if (claim is null)
        {
            logger.LogInformation("Point-in-time restore {Restore} is no longer queued; this delivery of its job does nothing", restoreId);
            return;
        }

        await using (claim)
        {
            await RunClaimedAsync(claim, record);
        }
    }

    private async Task RunClaimedAsync(RunClaim claim, PitrRestoreRecord record)
    {
        notifier.Publish(record.TargetId);
        var phases = new PitrRunPhases(lifecycle, claim, notifier, record.TargetId);
        try
        {
            var plan = await planner.PlanAtAsync(record.TargetId, record.TargetTime, record.Zone, record.Mode, record.DataDirectory, record.Port, claim.Token);
            var result = await engine.RestoreAsync(plan, phases, claim.Token, created => SaveDirectoryCreatedAsync(record.Id, created));
            await phases.WrittenAsync();
            var rowCounts = string.Join('\n', result.RowCounts.Select(c => $"{c.Database}.{c.Schema}.{c.Table} {c.Rows}"));
            var nextSteps = string.Join('\n', result.NextSteps);
            await lifecycle.FinishAsync(claim, RunEnd.Succeeded($"Port {result.Port}: {result.StoppedAt}") with
            {
                Phase = result.Promoted ? "Promoted: a new primary" : "Paused at the target (read only)",
                Record = (db, c) => db.Set<PitrRestoreRecord>().Where(r => r.Id == record.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.StoppedAt, result.StoppedAt)
                    .SetProperty(r => r.RowCounts, rowCounts)
                    .SetProperty(r => r.NextSteps, nextSteps), c),
            });
        }
        catch (Exception e)
        {
            await phases.WrittenAsync();
            var cancelled = e is OperationCanceledException && claim.StopRequested;
            var message = cancelled
                ? $"{claim.StopReason ?? "Cancelled: the console stopped"}. The restored server was stopped and what the restore wrote into {record.DataDirectory} removed."
                : e.Message;
            var status = cancelled ? RunStatus.Cancelled : RunStatus.Failed;
            await lifecycle.FinishAsync(claim, new RunEnd(status, message, cancelled ? null : FailureKindOf(e)) { AuditDetail = $"{status.ToString().ToLowerInvariant()}: {message}" });
            if (!cancelled)
            {
                throw;
            }
        }
        finally
        {
            notifier.Publish(record.TargetId);
        }
    }

    private static RunFailureKind FailureKindOf(Exception e) => e switch
    {
        Npgsql.NpgsqlException => RunFailureKind.Tool,
        IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException => RunFailureKind.Storage,
        _ => RunFailureKind.Unexpected,
    };

    private async Task SaveDirectoryCreatedAsync(Guid id, bool created)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Set<PitrRestoreRecord>().Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.DataDirectoryCreated, created), CancellationToken.None);
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
