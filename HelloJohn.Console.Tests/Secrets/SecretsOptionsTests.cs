using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Tests.Secrets.Fixtures;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
public sealed class SecretsOptionsTests
{
    [Fact]
    public async Task AddSecretsServices_NoConfiguration_UsesLocalStore()
    {
        await using var harness = SecretsHarness.Create(null);

        var store = harness.Get<ISecretStore>();

        Assert.Equal(SecretStoreKind.Local, store.Kind);
        Assert.Equal("hellojohn/", harness.Get<IOptions<SecretsOptions>>().Value.NamePrefix);
    }

    [Fact]
    public async Task AddSecretsServices_AwsStore_UsesSecretsManagerWithPrefix()
    {
        await using var harness = SecretsHarness.Create(null, new Dictionary<string, string?>
        {
            ["Secrets:Store"] = "AwsSecretsManager",
            ["Secrets:Region"] = "eu-central-2",
            ["Secrets:NamePrefix"] = "prod/hellojohn/",
        });

        var store = harness.Get<ISecretStore>();

        Assert.Equal(SecretStoreKind.AwsSecretsManager, store.Kind);
        Assert.Contains("eu-central-2", store.Location);
        Assert.Contains("prod/hellojohn/", store.Location);
    }

    [Theory]
    [InlineData("Secrets:Region (environment variable Secrets__Region) is required", "Store", "AwsSecretsManager")]
    [InlineData("is not an AWS region name", "Store", "AwsSecretsManager", "Region", "Europe")]
    [InlineData("Set both Secrets:AccessKeyId", "AccessKeyId", "FAKEONLYTHEID0000000")]
    [InlineData("Secrets:SessionToken (environment variable Secrets__SessionToken) is set without", "SessionToken", "token")]
    [InlineData("Secrets:ServiceUrl (environment variable Secrets__ServiceUrl) must be an absolute http or https URL", "ServiceUrl", "localhost:4566")]
    [InlineData("Secrets:NamePrefix (environment variable Secrets__NamePrefix) may contain only", "NamePrefix", "hello john/")]
    public async Task Validate_BadSetting_ErrorNamesKeyAndVariable(string expected, params string[] pairs)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < pairs.Length; i += 2)
        {
            settings["Secrets:" + pairs[i]] = pairs[i + 1];
        }

        await using var harness = SecretsHarness.Create(null, settings);

        var e = Assert.Throws<OptionsValidationException>(() => harness.Get<IOptions<SecretsOptions>>().Value);
        Assert.Contains(e.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }
}
