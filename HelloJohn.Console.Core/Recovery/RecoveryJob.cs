using Hangfire;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The Hangfire jobs of the wizards. Outcomes are recorded on the step, so Hangfire does not retry: a retry is
/// the engineer pressing the button again.</summary>
public sealed class RecoveryJob(RecoveryService recovery)
{
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Recovery step {1} of run {0}")]
    public Task RunStepAsync(Guid runId, string stepKey, CancellationToken ct) => recovery.ExecuteStepAsync(runId, stepKey, ct);

    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Recovery drill {0}")]
    public Task RunDrillAsync(Guid runId, CancellationToken ct) => recovery.RunDrillAsync(runId, ct);

    /// <summary>The drill schedule's entry: a drill of the target run by the console itself.</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Scheduled recovery drill of target {0}")]
    public Task RunScheduledDrillAsync(Guid targetId, CancellationToken ct) => recovery.RunScheduledDrillAsync(targetId, ct);

    public static string RecurringJobId(Guid targetId) => $"drill:{targetId}";
}
