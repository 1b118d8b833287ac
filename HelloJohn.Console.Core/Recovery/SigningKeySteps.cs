using HelloJohn.Console.Core.Recovery.Steps;
using HelloJohn.Console.Core.Security;

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
            Action = new("Generate and escrow"),
            ExtraPermission = ConsolePermission.ManageSecrets,
            Check = new(),
            Handler = typeof(GenerateKeyStep),
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
            Check = new(Polls: true),
            Handler = typeof(JwksStep),
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
}
