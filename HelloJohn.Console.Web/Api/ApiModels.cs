using HelloJohn.Console.Core.Restores;

namespace HelloJohn.Console.Web.Api;

/// <summary>Back up a target now; the default target when <see cref="TargetId"/> is left out.</summary>
public sealed record BackupRequestBody(Guid? TargetId = null);

/// <summary>Restore a backup. <see cref="Mode"/> NewDatabase needs a new database name; InPlace (Admin) restores over the
/// live database and needs <see cref="Confirmation"/> to be its name typed exactly, and takes a safety backup first.</summary>
public sealed record RestoreRequestBody(Guid BackupId, RestoreMode Mode, string DatabaseName, bool ReplaceExisting = false, string? Confirmation = null);

/// <summary>A run was queued: follow it at <see cref="Location"/>.</summary>
public sealed record AcceptedRun(string Kind, Guid Id, string Location);

/// <summary>A page of items, newest first.</summary>
public sealed record ApiPage<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);

/// <summary>Where any run stands, whatever its kind.</summary>
public sealed record RunStatus(string Kind, Guid Id, string Status, string? Phase, string Subject, string Target, DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error, string Location);

public sealed record ApiHealth(string Status, IReadOnlyDictionary<string, HealthCheckStatus> Checks);

public sealed record HealthCheckStatus(string Status, string? Description);
