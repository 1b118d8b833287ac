using Hangfire;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>The backup schedule's entry: a set of the deployment, taken by the console itself. A set of the same
/// deployment still running is not doubled: this run of the schedule is skipped, and said so in the log.</summary>
public sealed class SetScheduledJob(IDbContextFactory<ConsoleDbContext> dbFactory, SetService sets, ILogger<SetScheduledJob> logger) : IScheduledBackupJob
{
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Scheduled backup set of deployment {0}")]
    public async Task RunScheduledAsync(Guid targetId, CancellationToken ct)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (await db.Set<BackupSet>().Where(s => s.TargetId == targetId && (s.Status == BackupSetStatus.Queued || s.Status == BackupSetStatus.Running))
                .Select(s => s.Name).FirstOrDefaultAsync(ct) is { } running)
            {
                logger.LogWarning("The scheduled set of deployment {TargetId} was skipped: {Set} is still running. The next scheduled run takes the next set", targetId, running);
                return;
            }
        }

        await sets.RequestAsync(Actor.System, targetId, BackupTrigger.Scheduled, ct);
    }
}
