using HelloJohn.Console.Core.Secrets.SigningKeys;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Generate and escrow a new Ed25519 key": the console generates the pair and escrows the private key (the
/// Admin downloads it from the escrow, which audits it); the check finds it is the escrow's current version.</summary>
internal sealed class GenerateKeyStep(SigningKeyService keys) : IRecoveryStep
{
    public async Task ActAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var generated = await keys.GenerateAsync(ctx.Actor, ctx.Target.Id, ct);
        // The private key is not kept here: the Admin downloads it from the escrow, which audits the download.
        ctx.Run.SigningKeyFingerprint = generated.Status.Fingerprint;
        ctx.Run.SigningKeyVersionId = generated.Status.VersionId;
        await ctx.LogAsync($"Generated Ed25519 key {generated.Status.Fingerprint}, escrowed as version {generated.Status.VersionId} in {generated.Status.StoreLocation}.");
    }

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var status = await keys.GetStatusAsync(ctx.Target.Id, ct);
        if (status is null || ctx.Run.SigningKeyFingerprint is null)
        {
            return CheckOutcome.Fail("No new signing key is escrowed yet. Generate it.");
        }

        return status.Fingerprint == ctx.Run.SigningKeyFingerprint
            ? CheckOutcome.Pass($"Key {status.Fingerprint} is the escrow's current version ({status.VersionId}, {status.StoreLocation}).")
            : CheckOutcome.Fail($"The escrow's current key is {status.Fingerprint}, not the one generated here ({ctx.Run.SigningKeyFingerprint}): someone imported or generated another since. Generate again, or deploy the current one.");
    }
}
