using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Secrets.Aws;

/// <summary>Supplies the credentials for each signed request.</summary>
public interface IAwsCredentialSource
{
    /// <summary>Where the credentials come from, for messages ("Secrets:AccessKeyId", "the AWS credential chain").</summary>
    string Description { get; }

    Task<AwsSigningCredentials> GetAsync(CancellationToken ct);
}

/// <summary>Static credentials from <see cref="SecretsOptions"/> when set, otherwise AWSSDK.Core's default chain
/// (environment variables, shared profile, web identity, ECS container and EC2 instance roles), which also refreshes
/// temporary credentials before they expire.</summary>
internal sealed class AwsCredentialSource(IOptions<SecretsOptions> options) : IAwsCredentialSource, IDisposable
{
    private readonly DefaultAWSCredentialsIdentityResolver _chain = new();

    public string Description => HasStaticCredentials
        ? $"{SecretsOptions.Section}:{nameof(SecretsOptions.AccessKeyId)} and {SecretsOptions.Section}:{nameof(SecretsOptions.SecretAccessKey)}"
        : "the AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, container or instance role)";

    private bool HasStaticCredentials => !string.IsNullOrWhiteSpace(options.Value.AccessKeyId);

    public async Task<AwsSigningCredentials> GetAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (HasStaticCredentials)
        {
            return new AwsSigningCredentials(o.AccessKeyId!.Trim(), o.SecretAccessKey!.Trim(), string.IsNullOrWhiteSpace(o.SessionToken) ? null : o.SessionToken.Trim());
        }

        try
        {
            var credentials = await _chain.ResolveIdentityAsync(null!, ct);
            var immutable = await credentials.GetCredentialsAsync();
            return new AwsSigningCredentials(immutable.AccessKey, immutable.SecretKey, immutable.UseToken ? immutable.Token : null);
        }
        catch (AmazonClientException e)
        {
            // The SDK's message lists which providers it tried; it names variables and files, never key material.
            throw new SecretStoreException(SecretStoreFailure.InvalidCredentials,
                "No AWS credentials were found for AWS Secrets Manager, so nothing was read or stored. " +
                $"Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or give the host an IAM role), or set {SecretsOptions.Section}__{nameof(SecretsOptions.AccessKeyId)} and {SecretsOptions.Section}__{nameof(SecretsOptions.SecretAccessKey)}. " +
                $"The SDK reported: {e.Message}");
        }
    }

    public void Dispose() => _chain.Dispose();
}
