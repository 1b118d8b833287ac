using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Tests.Secrets.Fixtures;
using Microsoft.Extensions.Time.Testing;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
public sealed class AwsSecretsManagerStoreTests : IAsyncLifetime
{
    private const string AccessKeyId = "FAKETESTCONSOLE00001";
    private const string SecretAccessKey = "store-test-secret";
    private FakeSecretsManagerServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeSecretsManagerServer.StartAsync();
        _server.AddAccount(AccessKeyId, SecretAccessKey);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PutAsync_ThreeVersions_RoundTripsAndKeepsEveryVersion()
    {
        await using var harness = Harness();
        var store = harness.Get<ISecretStore>();
        var name = "tests/" + Guid.NewGuid().ToString("N");

        var first = await store.PutAsync(name, "first value");
        var second = await store.PutAsync(name, "second value");
        var third = await store.PutAsync(name, "third value");

        Assert.Equal(SecretStoreKind.AwsSecretsManager, store.Kind);
        Assert.Equal("third value", _server.CurrentValue("hellojohn/" + name));
        Assert.Equal(3, _server.VersionCount("hellojohn/" + name));
        var current = await store.GetAsync(name);
        Assert.Equal("third value", current!.Value);
        Assert.Equal(third.VersionId, current.VersionId);
        Assert.Equal("first value", (await store.GetAsync(name, first.VersionId))!.Value);
        Assert.Equal("second value", (await store.GetAsync(name, second.VersionId))!.Value);
        // The fake server pages two versions at a time, so this also follows NextToken.
        var versions = await store.ListVersionsAsync(name);
        Assert.Equal(3, versions.Count);
        Assert.Equal(third.VersionId, Assert.Single(versions, v => v.IsCurrent).VersionId);
        Assert.Equal(new[] { first.VersionId, second.VersionId, third.VersionId }.Order(), versions.Select(v => v.VersionId).Order());
        var description = await store.DescribeAsync(name);
        Assert.Equal(third.VersionId, description!.CurrentVersionId);
        Assert.Contains("arn:aws:secretsmanager:us-east-1", description.Location);
    }

    [Fact]
    public async Task PutAsync_WithSessionToken_SignsTokenAndSucceeds()
    {
        await using var harness = Harness(new() { ["Secrets:SessionToken"] = "FwoGZXIvYXdzEXAMPLETOKEN" });
        var name = "tests/" + Guid.NewGuid().ToString("N");

        await harness.Get<ISecretStore>().PutAsync(name, "with a session");

        Assert.Equal("with a session", _server.CurrentValue("hellojohn/" + name));
    }

    [Fact]
    public async Task GetAsync_UnknownSecret_ReturnsNothing()
    {
        await using var harness = Harness();
        var store = harness.Get<ISecretStore>();
        var name = "tests/" + Guid.NewGuid().ToString("N");

        Assert.Null(await store.GetAsync(name));
        Assert.Null(await store.DescribeAsync(name));
        Assert.Empty(await store.ListVersionsAsync(name));
        await store.PutAsync(name, "exists now");
        Assert.Null(await store.GetAsync(name, Guid.NewGuid().ToString()));
    }

    [Fact]
    public async Task PutAsync_WrongSecretKey_InvalidCredentialsAndNothingStored()
    {
        await using var harness = Harness(new() { ["Secrets:SecretAccessKey"] = "wrong-secret" });

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => harness.Get<ISecretStore>().PutAsync("tests/x", "value"));

        Assert.Equal(SecretStoreFailure.InvalidCredentials, e.Failure);
        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        Assert.Contains("Nothing was stored", e.Message);
        Assert.Contains("secret access key", e.Message);
        Assert.DoesNotContain("not-the-right-secret-key", e.Message);
        Assert.Equal(0, _server.SecretCount);
        Assert.DoesNotContain("not-the-right-secret-key", harness.Logs.AllText);
    }

    [Fact]
    public async Task PutAsync_UnknownAccessKey_InvalidCredentialsAndNothingStored()
    {
        await using var harness = Harness(new() { ["Secrets:AccessKeyId"] = "FAKEUNKNOWN000000000" });

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => harness.Get<ISecretStore>().PutAsync("tests/x", "value"));

        Assert.Equal(SecretStoreFailure.InvalidCredentials, e.Failure);
        Assert.Equal("UnrecognizedClientException", e.ErrorCode);
        Assert.Contains("does not recognise the access key", e.Message);
        Assert.Equal(0, _server.SecretCount);
    }

    [Fact]
    public async Task PutAsync_IdentityWithoutWritePermission_AccessDeniedAndNothingStored()
    {
        _server.AddAccount("FAKEREADONLY00000000", "read-only-secret", "GetSecretValue", "DescribeSecret");
        await using var harness = Harness(new() { ["Secrets:AccessKeyId"] = "FAKEREADONLY00000000", ["Secrets:SecretAccessKey"] = "read-only-secret" });

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => harness.Get<ISecretStore>().PutAsync("tests/denied", "value"));

        Assert.Equal(SecretStoreFailure.AccessDenied, e.Failure);
        Assert.Contains("secretsmanager:PutSecretValue", e.Message);
        Assert.Contains("Nothing was stored", e.Message);
        Assert.Equal(0, _server.SecretCount);
    }

    [Fact]
    public async Task GetAsync_RegionOtherThanEndpoints_RejectedWithRegionHint()
    {
        await using var harness = Harness(new() { ["Secrets:Region"] = "eu-west-1" });

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => harness.Get<ISecretStore>().GetAsync("tests/anything"));

        Assert.Equal(SecretStoreFailure.InvalidCredentials, e.Failure);
        Assert.Contains("Secrets:Region", e.Message);
        Assert.Contains("scoped to a valid region", e.Message);
    }

    [Fact]
    public async Task PutAsync_EndpointNotListening_UnreachableAndSaysWhatToCheck()
    {
        var closed = $"http://127.0.0.1:{LocalPostgresCluster.FreeLoopbackPort()}/";
        await using var harness = Harness(new() { ["Secrets:ServiceUrl"] = closed });

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => harness.Get<ISecretStore>().PutAsync("tests/x", "value"));

        Assert.Equal(SecretStoreFailure.Unreachable, e.Failure);
        Assert.Contains(closed, e.Message);
        Assert.Contains("Secrets:Region", e.Message);
        Assert.Contains("Nothing was stored", e.Message);
    }

    [Fact]
    public async Task PutAsync_ClockAnHourOff_ClockSkewError()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow().AddHours(-1));
        await using var harness = Harness(time: clock);

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => harness.Get<ISecretStore>().PutAsync("tests/x", "value"));

        Assert.Equal(SecretStoreFailure.ClockSkew, e.Failure);
        Assert.Contains("clock", e.Message);
        Assert.Equal(0, _server.SecretCount);
    }

    private SecretsHarness Harness(Dictionary<string, string?>? overrides = null, TimeProvider? time = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Secrets:Store"] = "AwsSecretsManager",
            ["Secrets:Region"] = FakeSecretsManagerServer.Region,
            ["Secrets:ServiceUrl"] = _server.ServiceUrl.ToString(),
            ["Secrets:AccessKeyId"] = AccessKeyId,
            ["Secrets:SecretAccessKey"] = SecretAccessKey,
        };
        foreach (var (k, v) in overrides ?? [])
        {
            settings[k] = v;
        }

        return SecretsHarness.Create(null, settings, time: time);
    }
}
