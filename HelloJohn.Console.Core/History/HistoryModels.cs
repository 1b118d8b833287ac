using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Core.History;

/// <summary>What the History page asks for: one target (or every target) over a window ending now, and within a
/// deployment one of its databases (the control plane, a tenant), or all of them when null.</summary>
public sealed record HistoryQuery(Guid? TargetId, TimeSpan Window, string? Database = null);

/// <summary>How a finished backup run ended, as history counts it. A backup that retention later expired did succeed.</summary>
public enum HistoryOutcome
{
    Succeeded,
    /// <summary>Succeeded, and retention deleted its files later, as the policy asks: a success, not a failure.</summary>
    SucceededThenExpired,
    /// <summary>Complete in some stores but not all of its tier: not a success until a retry copies it.</summary>
    PartiallyStored,
    Failed,
    /// <summary>Stopped by a person: neither a success nor a failure.</summary>
    Cancelled,
}

/// <summary>One finished backup run on the time line.</summary>
public sealed record BackupRunPoint(
    DateTimeOffset At,
    string FileName,
    HistoryOutcome Outcome,
    long? SizeBytes,
    double? DurationSeconds,
    DateTimeOffset? ExpiredAt,
    string? Error)
{
    public bool Succeeded => Outcome is HistoryOutcome.Succeeded or HistoryOutcome.SucceededThenExpired;
}

/// <summary>Backup runs of a window by how they ended. <see cref="Succeeded"/> includes those expired since.</summary>
public sealed record BackupCounts(int Succeeded, int ExpiredSince, int PartiallyStored, int Failed, int Cancelled)
{
    /// <summary>Runs that were meant to produce a good backup: every finished run but the cancelled ones.</summary>
    public int Attempted => Succeeded + PartiallyStored + Failed;

    /// <summary>Succeeded out of attempted, 0–1; null with nothing attempted.</summary>
    public double? SuccessRate => Attempted == 0 ? null : (double)Succeeded / Attempted;
}

/// <summary>One week (Monday 00:00 UTC onwards) of backup runs.</summary>
public sealed record WeeklySuccess(DateTimeOffset WeekStart, BackupCounts Counts);

/// <summary>A verification that finished: passed (every table's count matched) or failed.</summary>
public sealed record VerificationPoint(DateTimeOffset At, string BackupFileName, bool Passed, double? DurationSeconds, string? Error);

/// <summary>A recovery drill that ended, with the recovery time it measured when it completed.</summary>
public sealed record DrillPoint(DateTimeOffset At, Guid RunId, bool Completed, double? RtoSeconds, string? BackupFileName, string? EndReason);

/// <summary>Everything the History page draws for one query, on one time line from <see cref="From"/> to <see cref="To"/>.</summary>
public sealed record HistoryReport(
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyList<BackupRunPoint> Backups,
    BackupCounts Counts,
    IReadOnlyList<WeeklySuccess> Weeks,
    IReadOnlyList<VerificationPoint> Verifications,
    IReadOnlyList<DrillPoint> Drills,
    double? MedianDurationSeconds,
    long? LatestSizeBytes,
    bool Truncated);

/// <summary>A finished backup as read from the catalog, before history classifies it.</summary>
internal sealed record BackupRunRow(DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string FileName,
    BackupStatus Status, long? SizeBytes, DateTimeOffset? ExpiredAt, string? Error);
