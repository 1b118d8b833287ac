using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Sets;

/// <summary>With Verification__VerifyAfterEveryBackup on, a set that kept databases is verified as a whole once it ends.</summary>
internal sealed class VerifySetAfterBackup(SetVerificationService verifications, IOptionsMonitor<VerificationOptions> options) : IRunFinishedHandler
{
    public async Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct)
    {
        if (options.CurrentValue.VerifyAfterEveryBackup &&
            finished is { Kind: RunKind.BackupSet, Summary: SetRunSummary { Status: BackupSetStatus.Succeeded or BackupSetStatus.Partial } set })
        {
            await verifications.RequestAsync(Actor.System, set.SetId, VerificationTrigger.AfterBackup, ct);
        }
    }
}
