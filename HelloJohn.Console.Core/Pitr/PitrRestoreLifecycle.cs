namespace HelloJohn.Console.Core.Pitr;

/// <summary>Where a restore is in its life and who asked for it, as the restored-servers list needs it.</summary>
public sealed record PitrRestoreLifecycleFacts(bool InProgress, string RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset? FinishedAt, string? Phase);

/// <summary>The one place the restored-servers feature reads a restore's lifecycle fields (status, phase, who asked and
/// when): they move to the shared run record, and only this file changes with them.</summary>
public static class PitrRestoreLifecycle
{
    /// <summary>Restores that left a server behind, or are still making one. A failed restore removed its directory.</summary>
    public static IQueryable<PitrRestoreRecord> WithServers(IQueryable<PitrRestoreRecord> restores) =>
        restores.Where(r => r.Status != PitrRestoreStatus.Failed).OrderByDescending(r => r.RequestedAt);

    public static PitrRestoreLifecycleFacts Of(PitrRestoreRecord restore) => new(
        restore.Status is PitrRestoreStatus.Queued or PitrRestoreStatus.Running,
        restore.RequestedBy,
        restore.RequestedAt,
        restore.FinishedAt,
        restore.Phase);

    /// <summary>Whether the restore failed, so no server was left: nothing to stop, start or remove.</summary>
    public static bool Failed(PitrRestoreRecord restore) => restore.Status == PitrRestoreStatus.Failed;
}
