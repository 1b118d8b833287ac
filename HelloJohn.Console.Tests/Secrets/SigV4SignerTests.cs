using System.Text;
using System.Text.Json;
using Amazon.Runtime.Internal.Auth;
using HelloJohn.Console.Core.Secrets.Aws;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
public sealed class SigV4SignerTests
{
    private static readonly SuiteFile Suite = JsonSerializer.Deserialize<SuiteFile>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Secrets", "Fixtures", "sigv4-test-suite.json")),
        new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    public static TheoryData<string> VectorNames => [.. Suite.Vectors.Select(v => v.Name)];

    [Fact]
    public void TestSuite_CoversTheCasesThatApply_AllPresent()
    {
        // Guards against a truncated data file silently shrinking the theory below.
        Assert.Equal(26, Suite.Vectors.Count);
        Assert.Contains(Suite.Vectors, v => v.Name == "get-vanilla");
        Assert.Contains(Suite.Vectors, v => v.Name == "post-x-www-form-urlencoded");
        Assert.Contains(Suite.Vectors, v => v.Name == "post-sts-header-before");
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Sign_PublishedVector_MatchesCanonicalRequestStringToSignAndAuthorization(string name)
    {
        var vector = Suite.Vectors.Single(v => v.Name == name);
        var request = new SigV4Request(
            vector.Method,
            vector.Path,
            vector.Query,
            vector.Headers.Select(h => new KeyValuePair<string, string>(h[0], h[1])).ToList(),
            Encoding.UTF8.GetBytes(vector.Body));

        var signature = SigV4Signer.Sign(request, new AwsSigningCredentials(Suite.AccessKeyId, Suite.SecretAccessKey, vector.SessionToken), Suite.Region, Suite.Service, Suite.Date);

        Assert.Equal(vector.Creq, signature.CanonicalRequest);
        Assert.Equal(vector.Sts, signature.StringToSign);
        Assert.Equal(vector.Authz, signature.Authorization);
    }

    [Fact]
    public void Sign_SameCanonicalRequest_AgreesWithAwsSdkCoreSignature()
    {
        // A second, independent oracle: AWSSDK.Core's own HMAC chain over our canonical request.
        var at = new DateTimeOffset(2026, 3, 14, 9, 26, 53, TimeSpan.Zero);
        var credentials = new AwsSigningCredentials("TESTACCESSKEY", "secret/with+chars=", null);
        var body = Encoding.UTF8.GetBytes("{\"SecretId\":\"hellojohn/production/jwt-signing-key\"}");
        var request = new SigV4Request("POST", "/", "", [
            new("content-type", "application/x-amz-json-1.1"),
            new("host", "secretsmanager.eu-west-1.amazonaws.com"),
            new("x-amz-date", SigV4Signer.FormatAmzDate(at)),
            new("x-amz-target", "secretsmanager.GetSecretValue"),
        ], body);

        var ours = SigV4Signer.Sign(request, credentials, "eu-west-1", "secretsmanager", at);
        var sdk = AWS4Signer.ComputeSignature(credentials.AccessKeyId, credentials.SecretAccessKey, "eu-west-1", at.UtcDateTime, "secretsmanager", ours.SignedHeaders, ours.CanonicalRequest);

        Assert.Equal(sdk.Signature, ours.Signature);
        Assert.Equal(sdk.ForAuthorizationHeader, ours.Authorization);
    }

    [Fact]
    public void Sign_DifferentSecretKey_GivesDifferentSignature()
    {
        var vector = Suite.Vectors.Single(v => v.Name == "get-vanilla");
        var request = new SigV4Request(vector.Method, vector.Path, vector.Query, vector.Headers.Select(h => new KeyValuePair<string, string>(h[0], h[1])).ToList(), Array.Empty<byte>());

        var signature = SigV4Signer.Sign(request, new AwsSigningCredentials(Suite.AccessKeyId, Suite.SecretAccessKey + "x"), Suite.Region, Suite.Service, Suite.Date);

        Assert.Equal(vector.Creq, signature.CanonicalRequest);
        Assert.NotEqual(vector.Authz, signature.Authorization);
    }

    [Fact]
    public void ToString_Credentials_HidesSecretKeyAndToken()
    {
        var credentials = new AwsSigningCredentials("AKIDEXAMPLE", "test-secret-value-never-shown", "session-token-value");

        var text = credentials.ToString();

        Assert.Contains("AKIDEXAMPLE", text);
        Assert.DoesNotContain("test-secret-value-never-shown", text);
        Assert.DoesNotContain("session-token-value", text);
    }

    private sealed record SuiteFile(string AccessKeyId, string SecretAccessKey, string Region, string Service, DateTimeOffset Date, List<Vector> Vectors);

    private sealed record Vector(string Name, string Method, string Path, string Query, List<string[]> Headers, string Body, string Creq, string Sts, string Authz, string? SessionToken);
}
