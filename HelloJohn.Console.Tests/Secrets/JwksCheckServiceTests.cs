using System.Text.Json;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Secrets.Fixtures;
using Microsoft.AspNetCore.Http;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
[Collection(SecretsDatabaseCollection.Name)]
public sealed class JwksCheckServiceTests(SecretsDatabaseFixture db)
{
    private static readonly string EscrowedX = TestKeys.ToBase64Url(Convert.FromHexString(TestKeys.OpenSslEd25519PublicKeyHex));

    [Fact]
    public async Task CheckAsync_JwksPublishesEscrowedKey_MatchPersisted()
    {
        await using var jwks = await ServeAsync("/auth/.well-known/jwks.json", 200, Jwks(
            new { kty = "RSA", n = "sXch", e = "AQAB", kid = "legacy-rsa" },
            new { kty = "OKP", crv = "Ed25519", x = TestKeys.Rfc8037X, kid = "older" },
            new { kty = "OKP", crv = "Ed25519", x = EscrowedX, kid = "hj-2026", alg = "EdDSA", use = "sig" }));
        var (harness, target) = await EscrowedTargetAsync(new Uri(jwks.BaseAddress, "auth").ToString());
        await using var _ = harness;

        var result = await harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Operator, target);

        Assert.Equal(JwksCheckOutcome.Match, result.Outcome);
        Assert.Equal("hj-2026", result.MatchedKeyId);
        Assert.Equal(new Uri(jwks.BaseAddress, "auth/.well-known/jwks.json").ToString(), result.JwksUrl);
        Assert.Equal(TestKeys.ThumbprintByHand(Convert.FromHexString(TestKeys.OpenSslEd25519PublicKeyHex)), result.EscrowedFingerprint);
        Assert.Equal(2, result.PublishedFingerprints.Count);
        Assert.Equal("operator@example.com", result.RequestedBy);
        var status = await harness.Get<SigningKeyService>().GetStatusAsync(target);
        Assert.Equivalent(result, status!.LastCheck, strict: true);
        Assert.Equivalent(result, await harness.Get<JwksCheckService>().GetLastAsync(target), strict: true);
        Assert.Contains(await harness.Get<JwksCheckService>().GetLatestPerTargetAsync(), r => r.Id == result.Id);
    }

    [Fact]
    public async Task CheckAsync_JwksPublishesOtherKey_Mismatch()
    {
        await using var jwks = await ServeAsync("/.well-known/jwks.json", 200, Jwks(new { kty = "OKP", crv = "Ed25519", x = TestKeys.Rfc8037X, kid = "other" }));
        var (harness, target) = await EscrowedTargetAsync(jwks.BaseAddress.ToString());
        await using var _ = harness;

        var result = await harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Admin, target);

        Assert.Equal(JwksCheckOutcome.Mismatch, result.Outcome);
        Assert.Equal([TestKeys.Rfc8037Thumbprint], result.PublishedFingerprints);
        Assert.Contains(TestKeys.Rfc8037Thumbprint, result.Detail);
        Assert.Contains("not the escrowed key", result.Detail);
        Assert.Null(result.MatchedKeyId);
    }

    [Theory]
    [InlineData("{\"keys\": [ {\"kty\": \"OKP\", ")]
    [InlineData("<html><body>Welcome</body></html>")]
    [InlineData("{\"issuer\":\"https://auth.example.com\"}")]
    [InlineData("[]")]
    public async Task CheckAsync_AnswerIsNotJwks_Invalid(string body)
    {
        await using var jwks = await ServeAsync("/.well-known/jwks.json", 200, body);
        var (harness, target) = await EscrowedTargetAsync(jwks.BaseAddress.ToString());
        await using var _ = harness;

        var result = await harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Admin, target);

        Assert.Equal(JwksCheckOutcome.Invalid, result.Outcome);
        Assert.Contains("not a JWKS", result.Detail);
    }

    [Fact]
    public async Task CheckAsync_NothingListening_Unreachable()
    {
        var (harness, target) = await EscrowedTargetAsync($"http://127.0.0.1:{LocalPostgresCluster.FreeLoopbackPort()}");
        await using var _ = harness;

        var result = await harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Admin, target);

        Assert.Equal(JwksCheckOutcome.Unreachable, result.Outcome);
        Assert.Contains("Could not fetch", result.Detail);
        Assert.Equivalent(result, await harness.Get<JwksCheckService>().GetLastAsync(target), strict: true);
    }

    [Fact]
    public async Task CheckAsync_ServerError_Unreachable()
    {
        await using var jwks = await ServeAsync("/.well-known/jwks.json", 503, "down for maintenance");
        var (harness, target) = await EscrowedTargetAsync(jwks.BaseAddress.ToString());
        await using var _ = harness;

        var result = await harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Admin, target);

        Assert.Equal(JwksCheckOutcome.Unreachable, result.Outcome);
        Assert.Contains("HTTP 503", result.Detail);
    }

    [Fact]
    public async Task CheckAsync_NoKeyEscrowed_NotConfigured()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync(baseUrl: "http://127.0.0.1:9");

        var result = await harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Admin, target.Id);

        Assert.Equal(JwksCheckOutcome.NotConfigured, result.Outcome);
        Assert.Contains("No signing key is escrowed", result.Detail);
    }

    [Fact]
    public async Task CheckAsync_NoBaseUrl_NotConfigured()
    {
        var (harness, target) = await EscrowedTargetAsync(null);
        await using var _ = harness;

        var result = await harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Admin, target);

        Assert.Equal(JwksCheckOutcome.NotConfigured, result.Outcome);
        Assert.Contains("base URL", result.Detail);
        Assert.NotNull(result.EscrowedFingerprint);
    }

    [Fact]
    public async Task CheckAsync_Viewer_Denied()
    {
        var (harness, target) = await EscrowedTargetAsync("http://127.0.0.1:9");
        await using var _ = harness;

        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.Get<JwksCheckService>().CheckAsync(SecretsHarness.Viewer, target));

        Assert.Null(await harness.Get<JwksCheckService>().GetLastAsync(target));
    }

    [Fact]
    public async Task RunAsync_DailyJob_StoresCheckBySystem()
    {
        await using var jwks = await ServeAsync("/.well-known/jwks.json", 200, Jwks(new { kty = "OKP", crv = "Ed25519", x = EscrowedX }));
        var (harness, target) = await EscrowedTargetAsync(jwks.BaseAddress.ToString());
        await using var _ = harness;

        await harness.Get<JwksCheckJob>().RunAsync(target, CancellationToken.None);

        var last = await harness.Get<JwksCheckService>().GetLastAsync(target);
        Assert.Equal(JwksCheckOutcome.Match, last!.Outcome);
        Assert.Equal("system", last.RequestedBy);
        Assert.Equal($"jwks-check:{target:N}", JwksCheckJob.RecurringJobId(target));
    }

    private async Task<(SecretsHarness Harness, Guid TargetId)> EscrowedTargetAsync(string? baseUrl)
    {
        var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync(baseUrl);
        await harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem);
        return (harness, target.Id);
    }

    private static string Jwks(params object[] keys) => JsonSerializer.Serialize(new { keys });

    /// <summary>Serves <paramref name="body"/> at <paramref name="path"/> only; every other path is a 404.</summary>
    private static Task<LoopbackHttpServer> ServeAsync(string path, int status, string body) => LoopbackHttpServer.StartAsync(async context =>
    {
        if (context.Request.Path != path)
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
    });
}
