using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestActors;

namespace HelloJohn.Console.Tests.Recovery;

[Trait("Capability", "Recovery")]
[Collection(PostgresCollection.Name)]
public sealed class SigningKeyLostTests(PostgresClusterFixture postgres) : RecoveryAppTest(postgres)
{
    [Fact]
    public async Task Wizard_GeneratesEscrowsAndWaitsForTheLiveJwksToPublishTheNewKey()
    {
        var recovery = App.Service<RecoveryService>();
        var targetId = await App.DefaultTargetAsync();
        var runId = await recovery.StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.SigningKeyLost, targetId), CancellationToken.None);

        await recovery.AdvanceAsync(Admin, runId, "generate-key", null, CancellationToken.None);
        var generated = await App.WaitForStepAsync(runId, "generate-key");
        Assert.True(generated.Status == RecoveryStepStatus.Passed, generated.Message);
        await using var scope = App.Services.CreateAsyncScope();
        var status = (await scope.ServiceProvider.GetRequiredService<SigningKeyService>().GetStatusAsync(targetId))!;
        Assert.Equal(SigningKeyOrigin.Generated, status.Origin);
        var view = await App.RunAsync(runId);
        Assert.Equal(status.Fingerprint, view.SigningKeyFingerprint);
        Assert.Equal(Admin.Name, generated.CompletedBy);

        await recovery.MarkDoneAsync(Operator, runId, "deploy-key", CancellationToken.None);
        await recovery.MarkDoneAsync(Operator, runId, "restart", CancellationToken.None);

        // HelloJohn still publishes nothing: the check waits; then it publishes the new key.
        await recovery.AdvanceAsync(Operator, runId, "jwks", null, CancellationToken.None);
        await App.WaitForStepAsync(runId, "jwks", s => s.Status == RecoveryStepStatus.Running);
        await App.WaitForRunLogAsync(runId, l => l.StepKey == "jwks" && l.Text.Contains("Mismatch", StringComparison.Ordinal));
        HelloJohnFake.PublishJwk(status.PublicJwk);
        var jwks = await App.WaitForStepAsync(runId, "jwks");
        Assert.True(jwks.Status == RecoveryStepStatus.Passed, jwks.Message);
        Assert.Contains(status.Fingerprint, jwks.Message);

        await recovery.MarkDoneAsync(Operator, runId, "sessions", CancellationToken.None);
        var done = (await App.RunAsync(runId)).Run;
        Assert.Equal(RecoveryRunStatus.Completed, done.Status);
        Assert.Equal(TimeSpan.Zero, done.Rpo);
        Assert.True(done.Rto > TimeSpan.Zero);
        // The private key is never in the run's log or the console's log.
        var revealed = await scope.ServiceProvider.GetRequiredService<SigningKeyService>().RevealAsync(Admin, targetId);
        var body = revealed.PrivateKeyPem.Split('\n')[1];
        Assert.DoesNotContain(body, App.Logs.AllText);
        Assert.All((await App.RunAsync(runId)).Log, l => Assert.DoesNotContain(body, l.Text));
    }
}
