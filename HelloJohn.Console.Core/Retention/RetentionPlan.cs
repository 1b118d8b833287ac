using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Core.Retention;

public enum RetentionVerdict
{
    Keep,
    Expire,
    /// <summary>A failed run: it holds no file, so there is nothing to keep or delete; the record stays for history.</summary>
    NotABackup,
}

[Flags]
public enum RetentionReasons
{
    None = 0,
    Daily = 1,
    Weekly = 2,
    Monthly = 4,
    WithinDays = 8,
    NewestBackup = 16,
    NewestVerified = 32,
    Pinned = 64,
    LatestRunFailed = 128,
    InProgress = 256,
    FailedRun = 512,
    Expired = 1024,
    /// <summary>Among the newest <see cref="RetentionPolicy.MinimumKept"/> backups.</summary>
    MinimumCount = 2048,
    /// <summary>Partially stored, and Retry upload can still complete it.</summary>
    AwaitingRetry = 4096,
}

/// <summary>What happens to one backup, and why, in words for people.</summary>
public sealed record RetentionDecision(Guid BackupId, DateTimeOffset CreatedAt, DateOnly LocalDate, RetentionVerdict Verdict, RetentionReasons Reasons, string Explanation)
{
    public string? FileName { get; init; }

    /// <summary>The longest-lived tier it is kept for, if any.</summary>
    public BackupTier? Tier => Reasons.HasFlag(RetentionReasons.Monthly) ? BackupTier.Monthly
        : Reasons.HasFlag(RetentionReasons.Weekly) ? BackupTier.Weekly
        : Reasons.HasFlag(RetentionReasons.Daily) || Reasons.HasFlag(RetentionReasons.WithinDays) ? BackupTier.Daily
        : null;
}

/// <summary>A copy of a kept backup that its tier's store does not hold yet.</summary>
public sealed record RetentionCopy(Guid BackupId, BackupTier Tier, string ToStore);

/// <summary>A copy no tier needs any more (a weekly backup past its daily days, in a daily store). Done only once the
/// backup is held by the stores its tiers need.</summary>
public sealed record RetentionPrune(Guid BackupId, string FromStore, string Explanation);

/// <summary>The outcome of planning: a decision for every backup, the tier copies to make and the single copies to
/// remove. Nothing is done by planning.</summary>
public sealed record RetentionPlan(
    DateTimeOffset EvaluatedAt,
    string TimeZoneId,
    RetentionPolicy Policy,
    bool SafetyHold,
    IReadOnlyList<RetentionDecision> Decisions,
    IReadOnlyList<RetentionCopy> Copies,
    IReadOnlyList<RetentionPrune> Prunes)
{
    public IEnumerable<RetentionDecision> Kept => Decisions.Where(d => d.Verdict == RetentionVerdict.Keep);

    public IEnumerable<RetentionDecision> Expired => Decisions.Where(d => d.Verdict == RetentionVerdict.Expire);

    public RetentionDecision For(Guid backupId) => Decisions.Single(d => d.BackupId == backupId);
}
