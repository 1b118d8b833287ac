using HelloJohn.Console.Core.Secrets.Jwks;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Check that the live JWKS publishes the new key": asks HelloJohn's JWKS until it publishes the new key's
/// fingerprint, or the wait runs out.</summary>
internal sealed class JwksStep(JwksCheckService jwks, IOptionsMonitor<RecoveryOptions> options, TimeProvider time) : IRecoveryStep
{
    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var o = options.CurrentValue;
        var deadline = time.GetUtcNow() + o.WaitTimeout;
        string? lastSeen = null;
        for (var attempt = 1; ; attempt++)
        {
            var result = await jwks.CheckAsync(ctx.Actor, ctx.Target.Id, ct);

            if (result.Outcome == JwksCheckOutcome.NotConfigured)
            {
                return CheckOutcome.Fail(result.Detail);
            }

            if (result.Outcome == JwksCheckOutcome.Match && result.EscrowedFingerprint == ctx.Run.SigningKeyFingerprint)
            {
                await ctx.LogAsync($"Attempt {attempt}: {result.Detail}");
                return CheckOutcome.Pass($"HelloJohn's JWKS ({result.JwksUrl}) publishes the new key {ctx.Run.SigningKeyFingerprint}.");
            }

            var seen = $"{result.Outcome}: {(result.PublishedFingerprints.Count == 0 ? "no Ed25519 key" : string.Join(", ", result.PublishedFingerprints))}";
            if (seen != lastSeen || attempt % 10 == 0)
            {
                await ctx.LogAsync($"Attempt {attempt}: {seen}; waiting.", RecoveryLogLevel.Warning);
                lastSeen = seen;
            }

            if (time.GetUtcNow() + o.PollInterval > deadline)
            {
                return CheckOutcome.Fail($"HelloJohn's JWKS did not publish {ctx.Run.SigningKeyFingerprint} within {RecoveryDurations.Describe(o.WaitTimeout)} (last: {result.Detail}) " +
                    "Check HELLOJOHN_JWT_SIGNING_KEY on every instance and that they restarted, then run the check again.");
            }

            await Task.Delay(o.PollInterval, time, ct);
        }
    }
}
