using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Secrets.Aws;

/// <summary>Secrets in AWS Secrets Manager under <see cref="SecretsOptions.NamePrefix"/>. Each put is a new version
/// (AWS moves the AWSCURRENT label to it and AWSPREVIOUS to the one before); the value is stored as the plain secret
/// string, so <c>aws secretsmanager get-secret-value</c> gives back exactly what was escrowed.</summary>
internal sealed class AwsSecretsManagerStore(
    SecretsManagerClient client,
    IOptions<SecretsOptions> options,
    TimeProvider time,
    ILogger<AwsSecretsManagerStore> logger) : ISecretStore
{
    private const string CurrentStage = "AWSCURRENT";

    public SecretStoreKind Kind => SecretStoreKind.AwsSecretsManager;

    public string Location => $"AWS Secrets Manager, region {client.Region}, names starting with '{options.Value.NamePrefix}'";

    public async Task<SecretVersionInfo> PutAsync(string name, string value, CancellationToken ct = default)
    {
        SecretNames.Validate(name);
        var fullName = FullName(name);
        // The token makes the call idempotent and becomes the version id, so a retried put cannot add a second version.
        var token = Guid.NewGuid().ToString();
        string? versionId;
        try
        {
            versionId = (await client.PutSecretValueAsync(fullName, value, token, ct)).VersionId;
        }
        catch (SecretStoreException e) when (e.Failure == SecretStoreFailure.NotFound)
        {
            versionId = (await client.CreateSecretAsync(fullName, value, token, ct)).VersionId;
            logger.LogInformation("Created secret {SecretName} in AWS Secrets Manager ({Region})", fullName, client.Region);
        }

        logger.LogInformation("Stored version {VersionId} of secret {SecretName} in AWS Secrets Manager ({Region})", versionId ?? token, fullName, client.Region);
        return new SecretVersionInfo(name, versionId ?? token, time.GetUtcNow(), IsCurrent: true);
    }

    public async Task<SecretValue?> GetAsync(string name, string? versionId = null, CancellationToken ct = default)
    {
        try
        {
            var response = await client.GetSecretValueAsync(FullName(name), versionId, ct);
            if (response.SecretString is null || response.VersionId is null)
            {
                throw new SecretStoreException(SecretStoreFailure.Rejected,
                    $"Secret '{FullName(name)}' in AWS Secrets Manager holds binary data, not text: it was not written by this console. Nothing was changed.");
            }

            return new SecretValue(name, response.VersionId, FromEpoch(response.CreatedDate), response.SecretString);
        }
        catch (SecretStoreException e) when (e.Failure == SecretStoreFailure.NotFound)
        {
            return null;
        }
    }

    public async Task<SecretDescription?> DescribeAsync(string name, CancellationToken ct = default)
    {
        DescribeSecretResponse response;
        try
        {
            response = await client.DescribeSecretAsync(FullName(name), ct);
        }
        catch (SecretStoreException e) when (e.Failure == SecretStoreFailure.NotFound)
        {
            return null;
        }

        var stages = response.VersionIdsToStages ?? new Dictionary<string, IReadOnlyList<string>>();
        var current = stages.FirstOrDefault(s => s.Value.Contains(CurrentStage)).Key;
        var location = response.Arn is null ? Location : $"AWS Secrets Manager, {response.Arn}";
        return new SecretDescription(name, location, FromEpoch(response.CreatedDate), FromEpoch(response.LastChangedDate), current, stages.Count);
    }

    public async Task<IReadOnlyList<SecretVersionInfo>> ListVersionsAsync(string name, CancellationToken ct = default)
    {
        var versions = new List<SecretVersionInfo>();
        string? next = null;
        try
        {
            do
            {
                var page = await client.ListSecretVersionIdsAsync(FullName(name), next, ct);
                versions.AddRange((page.Versions ?? []).Select(v =>
                    new SecretVersionInfo(name, v.VersionId, FromEpoch(v.CreatedDate), v.VersionStages?.Contains(CurrentStage) == true)));
                next = page.NextToken;
            }
            while (next is not null);
        }
        catch (SecretStoreException e) when (e.Failure == SecretStoreFailure.NotFound)
        {
            return [];
        }

        return versions.OrderByDescending(v => v.CreatedAt).ThenByDescending(v => v.IsCurrent).ToList();
    }

    private string FullName(string name) => options.Value.NamePrefix + name;

    private static DateTimeOffset? FromEpoch(double? seconds) =>
        seconds is { } s ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(s * 1000)) : null;
}
