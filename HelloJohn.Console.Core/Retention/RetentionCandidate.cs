using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Core.Retention;

public enum RetentionCandidateStatus
{
    Succeeded,
    Failed,
    Running,
}

/// <summary>What retention needs to know about one backup run.</summary>
/// <param name="Stores">Names of the stores that hold a copy.</param>
public sealed record RetentionCandidate(Guid Id, DateTimeOffset CreatedAt, RetentionCandidateStatus Status)
{
    public string? FileName { get; init; }
    public bool Pinned { get; init; }
    /// <summary>When it last passed a restore verification; null if it never did.</summary>
    public DateTimeOffset? LastVerifiedAt { get; init; }
    public bool Verified => LastVerifiedAt is not null;
    public IReadOnlyCollection<string> Stores { get; init; } = [];
    /// <summary>Complete in some stores and missing from others (a remote store failed during the backup).</summary>
    public bool PartiallyStored { get; init; }

    /// <summary>Maps a catalog record. A partially stored backup counts as succeeded: its local copy is complete and
    /// restorable. A cancelled run counts as failed, so a cancelled latest run also holds expiry back.</summary>
    public static RetentionCandidate? FromRecord(BackupRecord record, DateTimeOffset? lastVerifiedAt)
    {
        RetentionCandidateStatus? status = record.Status switch
        {
            BackupStatus.Succeeded or BackupStatus.PartiallyStored => RetentionCandidateStatus.Succeeded,
            BackupStatus.Queued or BackupStatus.Running => RetentionCandidateStatus.Running,
            BackupStatus.Failed or BackupStatus.Cancelled => RetentionCandidateStatus.Failed,
            _ => null,
        };
        return status is { } s
            ? new RetentionCandidate(record.Id, record.CreatedAt, s)
            {
                FileName = record.FileName,
                Pinned = record.Pinned,
                LastVerifiedAt = lastVerifiedAt,
                Stores = record.Locations.Select(l => l.Store).ToList(),
                PartiallyStored = record.Status == BackupStatus.PartiallyStored,
            }
            : null;
    }
}
