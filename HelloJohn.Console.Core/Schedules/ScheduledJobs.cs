namespace HelloJohn.Console.Core.Schedules;

// The jobs a schedule starts. Hangfire resolves these through the container when a job runs, so the features that own
// the work (backups, verification, key checks) provide the implementations; schedules only need the contract.

/// <summary>Takes a scheduled backup of a target.</summary>
public interface IScheduledBackupJob
{
    Task RunScheduledAsync(Guid targetId, CancellationToken ct);
}

/// <summary>Restores the target's newest backup into a scratch database and compares row counts.</summary>
public interface IScheduledVerificationJob
{
    Task RunScheduledAsync(Guid targetId, CancellationToken ct);
}

/// <summary>Checks HelloJohn's live JWKS against the stored signing key's fingerprint.</summary>
public interface IScheduledJwksCheckJob
{
    Task RunScheduledAsync(Guid targetId, CancellationToken ct);
}
