using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Where a restore is in its life and who asked for it, as the restored-servers list needs it.</summary>
public sealed record PitrRestoreLifecycleFacts(bool InProgress, string RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset? FinishedAt, string? Phase);

/// <summary>The one place the restored-servers feature reads a restore's lifecycle (status, phase, who asked and when):
/// the restore's run, which callers load with <see cref="WithRun"/>.</summary>
public static class PitrRestoreLifecycle
{
    /// <summary>Restores with their run.</summary>
    public static IQueryable<PitrRestoreRecord> WithRun(IQueryable<PitrRestoreRecord> restores) => restores.Include(r => r.Run);

    /// <summary>Restores that left a server behind, or are still making one. A failed or cancelled restore removed what
    /// it wrote (after a crash, the sweep did).</summary>
    public static IQueryable<PitrRestoreRecord> WithServers(IQueryable<PitrRestoreRecord> restores) =>
        WithRun(restores).Where(r => r.Run!.Status != RunStatus.Failed && r.Run.Status != RunStatus.Cancelled).OrderByDescending(r => r.Run!.CreatedAt);

    public static PitrRestoreLifecycleFacts Of(PitrRestoreRecord restore)
    {
        var run = restore.Run ?? throw new InvalidOperationException($"The run of restore {restore.Id} was not loaded.");
        return new(run.IsActive, run.RequestedBy ?? "system", run.CreatedAt, run.FinishedAt, run.Phase);
    }

    /// <summary>Whether the restore failed or was cancelled, so no server was left: nothing to stop, start or remove.</summary>
    public static bool Failed(PitrRestoreRecord restore) => restore.Run?.Status is RunStatus.Failed or RunStatus.Cancelled;
}
