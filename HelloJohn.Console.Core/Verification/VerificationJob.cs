using Hangfire;

namespace HelloJohn.Console.Core.Verification;

/// <summary>The Hangfire jobs of verification. Outcomes are recorded on the runs, so Hangfire does not retry.</summary>
public sealed class VerificationJob(VerificationService verifications)
{
    /// <summary>Stable id prefix of the weekly recurring verification; the id is <c>verify-weekly-{targetId}</c>.</summary>
    public const string WeeklyRecurringJobIdPrefix = "verify-weekly-";

    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Verify ({0})")]
    public Task RunAsync(Guid verificationRunId, CancellationToken ct) => verifications.RunAsync(verificationRunId, ct);

    /// <summary>The weekly verification of a target's newest backup (registered as a recurring job by the schedules).</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Verify the newest backup of target {0}")]
    public Task VerifyNewestAsync(Guid targetId, CancellationToken ct) => verifications.VerifyNewestAsync(targetId, ct);
}
