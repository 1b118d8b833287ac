using Hangfire;

namespace HelloJohn.Console.Core.Restores;

/// <summary>The Hangfire job of one restore. The outcome is recorded on the run, so Hangfire does not retry: a retry
/// would restore again over what the first attempt left.</summary>
public sealed class RestoreJob(RestoreService restores)
{
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Restore ({0})")]
    public Task RunAsync(Guid restoreRunId, CancellationToken ct) => restores.RunAsync(restoreRunId, ct);
}
