using Hangfire;
using HelloJohn.Console.Core.Schedules;

namespace HelloJohn.Console.Core.Verification;

/// <summary>The Hangfire jobs of verification. Outcomes are recorded on the runs, so Hangfire does not retry.</summary>
public sealed class VerificationJob(VerificationService verifications) : IScheduledVerificationJob
{
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Verify ({0})")]
    public Task RunAsync(Guid verificationRunId, CancellationToken ct) => verifications.RunAsync(verificationRunId, ct);

    /// <summary>The weekly schedule's entry: verifies the target's newest backup.</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Scheduled verification of target {0}")]
    public Task RunScheduledAsync(Guid targetId, CancellationToken ct) => verifications.VerifyNewestAsync(targetId, ct);
}
