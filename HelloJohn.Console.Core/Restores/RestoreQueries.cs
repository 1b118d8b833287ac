namespace HelloJohn.Console.Core.Restores;

/// <summary>What a person asks for. <see cref="Confirmation"/> is the database name typed again, required in place.</summary>
public sealed record RestoreRequest(Guid BackupId, RestoreMode Mode, string DatabaseName, bool ReplaceExisting = false, string? Confirmation = null)
{
    /// <summary>A PostgreSQL server to restore a new database into instead of the target's (a connection string, with
    /// its password): the way to restore a backup whose target has no connection. Never shown or logged.</summary>
    public string? ServerConnectionString { get; init; }

    /// <summary>Without the named server's connection string, which holds a password.</summary>
    public override string ToString() =>
        $"RestoreRequest {{ BackupId = {BackupId}, Mode = {Mode}, DatabaseName = {DatabaseName}, ReplaceExisting = {ReplaceExisting}, NamedServer = {ServerConnectionString is not null} }}";
}

public sealed record RestoreRunItem(
    Guid Id,
    Guid? BackupId,
    string BackupFileName,
    string TargetName,
    RestoreMode Mode,
    string DatabaseName,
    string? Server,
    bool ReplaceExisting,
    RestoreStatus Status,
    RestorePhase Phase,
    string? RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? RestoreStartedAt,
    TimeSpan? ChecksDuration,
    TimeSpan? SafetyBackupDuration,
    TimeSpan? RestoreDuration,
    TimeSpan? CountDuration,
    Guid? SafetyBackupId,
    int Jobs,
    bool? CountsMatch,
    long? RowsRestored,
    string? FailedCheck,
    string? Error)
{
    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
    public bool IsActive => Status is RestoreStatus.Queued or RestoreStatus.Running;

    /// <summary>Its run as the live-run view shows it (progress, phase, who cancelled).</summary>
    public Runs.RunView? Lifecycle { get; init; }
}

public sealed record RestoreRunDetails(RestoreRunItem Run, IReadOnlyList<TableCountResult> Tables, string? SafetyBackupFileName);

public sealed record RestoreRunPage(IReadOnlyList<RestoreRunItem> Items, int TotalCount);

/// <summary>What the dialog learns about a name before the request: why it is refused, or whether it exists.</summary>
public sealed record DatabaseNameCheck(string? Problem, bool Exists);

/// <summary>A restore request was refused before anything ran; the message says why and what to do.</summary>
public sealed class RestoreRefusedException(string message) : Exception(message);

/// <summary>A restore ran and failed or was cancelled; the run's record holds the same message.</summary>
public sealed class RestoreFailedException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The run that failed, to read its details.</summary>
    public Guid? RunId { get; init; }
}
