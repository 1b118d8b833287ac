using Hangfire;

namespace HelloJohn.Console.Core.Backups;

/// <summary>The Hangfire job of one backup (on its own, or a member of a set). Failures are recorded on the backup
/// itself, so Hangfire does not retry: a retry would be a new backup with its own record. The schedule takes sets
/// (<c>Sets.SetScheduledJob</c>).</summary>
public sealed class BackupJob(BackupService backups)
{
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Back up ({0})")]
    public Task RunAsync(Guid backupId, CancellationToken ct) => backups.RunAsync(backupId, ct);
}
