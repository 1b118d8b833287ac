namespace HelloJohn.Console.Core.Backups;

public sealed record BackupProgress(Guid BackupId, BackupStatus Status, long BytesWritten, string? Error);

/// <summary>Tells open pages, within this process, that a backup moved. Pages also re-read the catalog, since a
/// backup may run on another console instance.</summary>
public sealed class BackupProgressNotifier
{
    public event Action<BackupProgress>? Changed;

    public void Publish(BackupProgress progress) => Changed?.Invoke(progress);
}
