namespace HelloJohn.Console.Core.Notifications;

/// <summary>What a channel can subscribe to. The stored name is <see cref="NotificationEvents.Code"/>, so adding a kind
/// never renumbers a subscription.</summary>
public enum NotificationEventKind
{
    BackupFailed,
    BackupSucceeded,
    /// <summary>A backup set (one run over a deployment: a dump per database) in which some members failed.</summary>
    SetPartial,
    VerificationFailed,
    VerificationPassed,
    RestoreFinished,
    DrillFinished,
    RpoAboveThreshold,
    /// <summary>pg_receivewal stopped streaming a target's WAL (point-in-time recovery).</summary>
    WalStreamingStopped,
    /// <summary>A physical replication slot retains more WAL than allowed, or its <c>wal_status</c> is unreserved/lost.</summary>
    SlotAtRisk,
    SigningKeyMismatch,
    StorageTierFailing,
    /// <summary>The newest verified backup is kept only by the "never expire the newest verified backup" rule: the
    /// policy alone would remove it, so no other verified backup stands behind it.</summary>
    RetentionLastVerifiedAtRisk,
    /// <summary>Sent by <b>Send test</b>; never subscribed to.</summary>
    Test,
}

public enum NotificationSeverity
{
    Info,
    Warning,
    Critical,
}

/// <summary>One kind of event as people and receivers see it.</summary>
/// <param name="Code">Stable name in subscriptions, webhook bodies and the X-HelloJohn-Event header.</param>
public sealed record NotificationEventInfo(NotificationEventKind Kind, string Code, string Label);

public static class NotificationEvents
{
    public static IReadOnlyList<NotificationEventInfo> All { get; } =
    [
        new(NotificationEventKind.BackupFailed, "backup.failed", "Backup failed"),
        new(NotificationEventKind.BackupSucceeded, "backup.succeeded", "Backup succeeded"),
        new(NotificationEventKind.SetPartial, "set.partial", "Backup set partial"),
        new(NotificationEventKind.VerificationFailed, "verification.failed", "Verification failed"),
        new(NotificationEventKind.VerificationPassed, "verification.passed", "Verification passed"),
        new(NotificationEventKind.RestoreFinished, "restore.finished", "Restore finished"),
        new(NotificationEventKind.DrillFinished, "drill.finished", "Recovery drill result (with its RTO)"),
        new(NotificationEventKind.RpoAboveThreshold, "rpo.above_threshold", "RPO above the threshold"),
        new(NotificationEventKind.WalStreamingStopped, "wal.streaming_stopped", "WAL streaming stopped (and resumed)"),
        new(NotificationEventKind.SlotAtRisk, "wal.slot_at_risk", "Replication slot at risk or lost (and safe again)"),
        new(NotificationEventKind.SigningKeyMismatch, "signingkey.jwks_mismatch", "Signing key differs from the live JWKS"),
        new(NotificationEventKind.StorageTierFailing, "storage.failing", "A storage tier failing"),
        new(NotificationEventKind.RetentionLastVerifiedAtRisk, "retention.last_verified_at_risk", "Retention about to remove the last verified backup"),
    ];

    /// <summary>The kinds a channel may subscribe to (every kind but the test message).</summary>
    public static IReadOnlyList<NotificationEventKind> Subscribable { get; } = [.. All.Select(e => e.Kind)];

    /// <summary>What a new channel subscribes to: everything that needs someone to act.</summary>
    public static IReadOnlyList<NotificationEventKind> DefaultSubscriptions { get; } =
    [
        NotificationEventKind.BackupFailed, NotificationEventKind.SetPartial, NotificationEventKind.VerificationFailed,
        NotificationEventKind.DrillFinished, NotificationEventKind.RpoAboveThreshold, NotificationEventKind.WalStreamingStopped,
        NotificationEventKind.SlotAtRisk, NotificationEventKind.SigningKeyMismatch, NotificationEventKind.StorageTierFailing,
        NotificationEventKind.RetentionLastVerifiedAtRisk,
    ];

    public static string Code(NotificationEventKind kind) => kind == NotificationEventKind.Test ? "test" : Info(kind).Code;

    public static NotificationEventInfo Info(NotificationEventKind kind) => All.First(e => e.Kind == kind);

    public static NotificationEventKind? Parse(string code) =>
        code == "test" ? NotificationEventKind.Test : All.FirstOrDefault(e => e.Code == code)?.Kind;
}
