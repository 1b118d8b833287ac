namespace HelloJohn.Console.Core.Backups;

public sealed record BackupCompleted(Guid BackupId, Guid TargetId, BackupTrigger Trigger, string FileName);

/// <summary>Told when a backup has succeeded (file, manifest and catalog all durable), e.g. to verify it at once.
/// A handler's failure is logged and never fails the backup.</summary>
public interface IBackupCompletedHandler
{
    Task OnBackupSucceededAsync(BackupCompleted backup, CancellationToken ct);
}
