using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Queues a verification of every new backup when Verification__VerifyAfterEveryBackup is on (a set's members
/// are verified together, as their set: <c>Sets.VerifySetAfterBackup</c>).</summary>
internal sealed class VerifyAfterBackup(VerificationService verifications, IOptionsMonitor<VerificationOptions> options) : IRunFinishedHandler
{
    public async Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct)
    {
        // A safety backup is taken in the middle of a restore in place; verifying it then would load the same server.
        if (!options.CurrentValue.VerifyAfterEveryBackup || finished is not { Kind: RunKind.Backup, Status: RunStatus.Succeeded, Summary: BackupRunSummary backup }
            || backup.Trigger == BackupTrigger.SafetyBeforeRestore || backup.SetId is not null)
        {
            return;
        }

        await verifications.RequestAsync(Actor.System, finished.RunId, VerificationTrigger.AfterBackup, ct);
    }
}
