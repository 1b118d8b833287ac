using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Security;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Queues a verification of every new backup when Verification__VerifyAfterEveryBackup is on.</summary>
internal sealed class VerifyAfterBackup(VerificationService verifications, IOptionsMonitor<VerificationOptions> options) : IBackupCompletedHandler
{
    public async Task OnBackupSucceededAsync(BackupCompleted backup, CancellationToken ct)
    {
        // A safety backup is taken in the middle of a restore in place; verifying it then would load the same server.
        if (!options.CurrentValue.VerifyAfterEveryBackup || backup.Trigger == BackupTrigger.SafetyBeforeRestore)
        {
            return;
        }

        await verifications.RequestAsync(Actor.System, backup.BackupId, VerificationTrigger.AfterBackup, ct);
    }
}
