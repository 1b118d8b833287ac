using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The steps of "signing key lost": a new Ed25519 pair escrowed by the console, deployed by the engineer,
/// proven by HelloJohn's live JWKS.</summary>
internal static class SigningKeySteps
{
    public const string GenerateKey = "generate-key";
    public const string DeployKey = "deploy-key";
    public const string RestartKey = "restart";
    public const string JwksKey = "jwks";
    public const string SessionsKey = "sessions";

    public static IReadOnlyList<RecoveryStepDefinition> All() =>
    [
        new()
        {
            Key = GenerateKey,
            Title = "Generate and escrow a new Ed25519 key",
            Instructions = _ =>
            [
                new("The console generates a new Ed25519 pair and stores the private key in the secret store (a new version; older versions stay). " +
                    "Once it is escrowed, an Admin downloads it here to deploy it. Only its fingerprint is shown."),
            ],
            Action = GenerateAsync,
            ActionLabel = "Generate and escrow",
            ExtraPermission = ConsolePermission.ManageSecrets,
            Check = CheckEscrowedAsync,
        },
        new()
        {
            Key = DeployKey,
            Title = "Deploy it as HELLOJOHN_JWT_SIGNING_KEY",
            Instructions = c => ProviderInstructions.SetSigningKey(c.Provider),
            ManualReason = "The console cannot see HelloJohn's environment. Mark this done once every instance has the new key; the JWKS check proves it.",
        },
        new()
        {
            Key = RestartKey,
            Title = "Restart HelloJohn",
            Instructions = c => ProviderInstructions.RestartInstances(c.Provider),
            ManualReason = "Restarts happen on your platform. Mark this done once the instances restarted.",
        },
        new()
        {
            Key = JwksKey,
            Title = "Check that the live JWKS publishes the new key",
            Instructions = c =>
            [
                new("The console fetches HelloJohn's JWKS until it publishes the new key's fingerprint. By hand:"),
                new("", $"curl -fsS {(string.IsNullOrWhiteSpace(c.Target.BaseUrl) ? "https://auth.example.com" : c.Target.BaseUrl.TrimEnd('/'))}/.well-known/jwks.json"),
            ],
            Check = WaitForJwksAsync,
            CheckPolls = true,
        },
        new()
        {
            Key = SessionsKey,
            Title = "Tell users they will sign in again",
            Instructions = _ =>
            [
                new("Tokens signed with the lost key no longer verify: every user is asked to sign in again as their session is checked. " +
                    "Nothing else is lost. Tell your support team and, if you have one, post a status notice."),
            ],
            ManualReason = "A notice to people: mark it done once it is sent.",
        },
    ];

    private static async Task GenerateAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        await using var scope = ctx.Services.CreateAsyncScope();
        var keys = scope.ServiceProvider.GetRequiredService<SigningKeyService>();
        var generated = await keys.GenerateAsync(ctx.Actor, ctx.Target.Id, ct);
        // The private key is not kept here: the Admin downloads it from the escrow, which audits the download.
        ctx.Run.SigningKeyFingerprint = generated.Status.Fingerprint;
        ctx.Run.SigningKeyVersionId = generated.Status.VersionId;
        await ctx.LogAsync($"Generated Ed25519 key {generated.Status.Fingerprint}, escrowed as version {generated.Status.VersionId} in {generated.Status.StoreLocation}.");
    }

    private static async Task<CheckOutcome> CheckEscrowedAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        await using var scope = ctx.Services.CreateAsyncScope();
        var status = await scope.ServiceProvider.GetRequiredService<SigningKeyService>().GetStatusAsync(ctx.Target.Id, ct);
        if (status is null || ctx.Run.SigningKeyFingerprint is null)
        {
            return CheckOutcome.Fail("No new signing key is escrowed yet. Generate it.");
        }

        return status.Fingerprint == ctx.Run.SigningKeyFingerprint
            ? CheckOutcome.Pass($"Key {status.Fingerprint} is the escrow's current version ({status.VersionId}, {status.StoreLocation}).")
            : CheckOutcome.Fail($"The escrow's current key is {status.Fingerprint}, not the one generated here ({ctx.Run.SigningKeyFingerprint}): someone imported or generated another since. Generate again, or deploy the current one.");
    }

    private static async Task<CheckOutcome> WaitForJwksAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var o = ctx.Services.GetRequiredService<IOptionsMonitor<RecoveryOptions>>().CurrentValue;
        var time = ctx.Services.GetRequiredService<TimeProvider>();
        var deadline = time.GetUtcNow() + o.WaitTimeout;
        string? lastSeen = null;
        for (var attempt = 1; ; attempt++)
        {
            JwksCheckResult result;
            await using (var scope = ctx.Services.CreateAsyncScope())
            {
                result = await scope.ServiceProvider.GetRequiredService<JwksCheckService>().CheckAsync(ctx.Actor, ctx.Target.Id, ct);
            }

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
