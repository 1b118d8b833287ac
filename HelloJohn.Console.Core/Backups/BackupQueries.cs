namespace HelloJohn.Console.Core.Backups;

public sealed record BackupListItem(
    Guid Id,
    Guid TargetId,
    string TargetName,
    string FileName,
    BackupStatus Status,
    BackupTrigger Trigger,
    string? RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long BytesWritten,
    long? SizeBytes,
    string? Sha256,
    string? Error,
    bool Pinned,
    string Tier)
{
    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
    public string? Sha256Short => Sha256 is { Length: >= 12 } ? Sha256[..12] : Sha256;
    public bool IsActive => Status is BackupStatus.Queued or BackupStatus.Running;

    /// <summary>Where its run is (<see cref="BackupPhase"/>), while it runs.</summary>
    public string? Phase { get; init; }

    /// <summary>The set it is a member of; null for a backup on its own.</summary>
    public Guid? SetId { get; init; }

    /// <summary>While it runs: the size of the previous backup of the same database, what its progress is measured against.</summary>
    public long? ExpectedBytes { get; init; }
}

public sealed record BackupDetails(BackupListItem Backup, IReadOnlyList<ManifestTableCount> Tables, IReadOnlyList<BackupLocationInfo> Locations,
    string Format, string Compression, string? ServerVersion, string? PgDumpVersion, string? SchemaVersion);

public sealed record BackupLocationInfo(string Store, string Key, string? StorageClass, DateTimeOffset StoredAt);

/// <param name="BackupId">Only this backup (a notification's link to it).</param>
public sealed record BackupQuery(int Page = 0, int PageSize = 25, Guid? TargetId = null, BackupStatus? Status = null, Guid? BackupId = null);

public sealed record BackupPage(IReadOnlyList<BackupListItem> Items, int TotalCount);
