namespace HelloJohn.Console.Core.Notifications;

/// <summary>Something that happened, in the words every channel sends: what happened (<see cref="Text"/>), what was not
/// touched (<see cref="NotTouched"/>), and where to look (<see cref="LinkPath"/>, a path of the console).</summary>
public sealed record NotificationEvent(NotificationEventKind Kind, NotificationSeverity Severity, string Title, string Text)
{
    public Guid? TargetId { get; init; }
    public string? TargetName { get; init; }
    public string? NotTouched { get; init; }
    /// <summary>A path inside the console (<c>/backups</c>, <c>/recovery/{id}</c>); the console base URL is put in front
    /// when the message is sent.</summary>
    public string? LinkPath { get; init; }
    /// <summary>The run or record it is about (backup, verification run, restore run, recovery run).</summary>
    public Guid? SubjectId { get; init; }
    /// <summary>Events with the same key are sent once per <see cref="NotificationOptions.RepeatAfter"/>: a condition
    /// checked every few minutes (RPO, a JWKS mismatch) reminds people, it does not flood them.</summary>
    public string? DedupeKey { get; init; }
    /// <summary>Figures for machines (webhook bodies): sizes, durations, file names. Never a secret.</summary>
    public IReadOnlyDictionary<string, string> Facts { get; init; } = new Dictionary<string, string>();
    /// <summary>Stores that failed (storage tier failing), one event row each so metrics can count them by store.</summary>
    public string? Store { get; init; }
}
