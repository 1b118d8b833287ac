using HelloJohn.Console.Core.Restores;

namespace HelloJohn.Console.Core.Verification;

public sealed record VerificationRunItem(
    Guid Id,
    Guid? BackupId,
    string BackupFileName,
    string TargetName,
    string? DatabaseName,
    string? Server,
    VerificationStatus Status,
    VerificationTrigger Trigger,
    RestorePhase Phase,
    string? RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    TimeSpan? ChecksDuration,
    TimeSpan? RestoreDuration,
    TimeSpan? CountDuration,
    int Jobs,
    long? RowsCounted,
    string? FailedCheck,
    string? Error,
    bool? DatabaseDropped,
    string? Leftovers)
{
    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
    public bool IsActive => Status is VerificationStatus.Queued or VerificationStatus.Running;

    /// <summary>Its run as the live-run view shows it (progress, phase, who cancelled).</summary>
    public Runs.RunView? Lifecycle { get; init; }
}

public sealed record VerificationRunDetails(VerificationRunItem Run, IReadOnlyList<TableCountResult> Tables);

public sealed record VerificationRunPage(IReadOnlyList<VerificationRunItem> Items, int TotalCount);

public enum VerificationBadgeState
{
    Never,
    Verified,
    Failed,
}

/// <summary>A backup's latest verification outcome, as the Backups grid shows it.</summary>
public sealed record VerificationBadge(VerificationBadgeState State, DateTimeOffset? At, bool InProgress, string? Error)
{
    public static VerificationBadge Never { get; } = new(VerificationBadgeState.Never, null, false, null);
}

/// <summary>A verification ran and did not pass; its run holds the same message and the per-table counts.</summary>
public sealed class VerificationFailedException(Guid runId, string message, Exception? inner = null) : Exception(message, inner)
{
    public Guid RunId { get; } = runId;
}
