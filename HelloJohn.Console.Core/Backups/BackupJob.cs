using Hangfire;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Core.Backups;

/// <summary>The Hangfire job of one backup. Failures are recorded on the backup itself, so Hangfire does not retry:
/// a retry would be a new backup with its own record.</summary>
public sealed class BackupJob(BackupService backups) : IScheduledBackupJob
{
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Back up ({0})")]
    public Task RunAsync(Guid backupId, CancellationToken ct) => backups.RunAsync(backupId, ct);

    /// <summary>The daily schedule's entry: a backup taken by the console itself.</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Scheduled backup of target {0}")]
    public async Task RunScheduledAsync(Guid targetId, CancellationToken ct) =>
        await backups.RunNowAsync(Actor.System, targetId, BackupTrigger.Scheduled, ct);
}
