using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Core.Recovery;

public sealed record RecoveryScenarioInfo(RecoveryScenario Scenario, string Title, string Summary);

public sealed record RecoveryRunSummary(
    Guid Id,
    RecoveryScenario Scenario,
    string ScenarioTitle,
    Guid TargetId,
    string TargetName,
    TargetProvider Provider,
    RecoveryRunStatus Status,
    string StartedBy,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? EndReason,
    DateTimeOffset? IncidentAt,
    IncidentTimeSource? IncidentSource,
    string? BackupFileName,
    DateTimeOffset? RecoveryPointAt,
    TimeSpan? Rpo,
    TimeSpan? Rto,
    int StepsPassed,
    int StepCount);

public sealed record RecoveryStepView(
    int Position,
    string Key,
    string Title,
    RecoveryStepStatus Status,
    bool IsCurrent,
    bool IsManual,
    bool RunsAsJob,
    string? ActionLabel,
    string? ManualReason,
    ConsolePermission? ExtraPermission,
    IReadOnlyList<InstructionBlock> Instructions,
    IReadOnlyList<InputField> Inputs,
    string? Message,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    string? CompletedBy,
    bool MarkedDoneByHand,
    int Attempts)
{
    public bool IsBusy => Status is RecoveryStepStatus.Queued or RecoveryStepStatus.Running;
}

public sealed record RecoveryLogView(long Id, string StepKey, DateTimeOffset At, RecoveryLogLevel Level, string Text);

/// <summary>Everything the wizard page shows. Holds no secret: the new database URL is masked.</summary>
public sealed record RecoveryRunView(
    RecoveryRunSummary Run,
    IReadOnlyList<RecoveryStepView> Steps,
    IReadOnlyList<RecoveryLogView> Log,
    string? MaskedNewDatabaseUrl,
    string? NewServerVersion,
    string? HealthUrl,
    string? SigningKeyFingerprint,
    DateTimeOffset? PointInTimeTarget,
    string? PointInTimeZone,
    string? ScratchDatabase)
{
    public RecoveryStepView? Current => Steps.FirstOrDefault(s => s.IsCurrent);
}

/// <summary>A backup the wizard can restore, with its age at the incident (the RPO it would give).</summary>
public sealed record BackupCandidate(
    Guid Id,
    string FileName,
    DateTimeOffset SnapshotAt,
    DateTimeOffset? VerifiedAt,
    string? ServerVersion,
    long? SizeBytes,
    TimeSpan AgeAtIncident,
    bool IsDefault);

/// <summary>The newest finished drill of a target, for the dashboard.</summary>
public sealed record LastDrill(
    Guid RunId,
    Guid TargetId,
    string TargetName,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    RecoveryRunStatus Status,
    TimeSpan? Rto,
    TimeSpan? Rpo,
    string? BackupFileName,
    string? EndReason);

public sealed record RecoveryRunQuery(int Page = 0, int PageSize = 25, Guid? TargetId = null, RecoveryScenario? Scenario = null);

public sealed record RecoveryRunPage(IReadOnlyList<RecoveryRunSummary> Items, int TotalCount);
