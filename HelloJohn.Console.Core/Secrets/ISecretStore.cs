namespace HelloJohn.Console.Core.Secrets;

/// <summary>Named secrets with versions. Putting a value never overwrites: it adds a version that becomes current, and
/// earlier versions stay readable by their id. Implementations throw <see cref="SecretStoreException"/> with a message
/// for people, and never put a secret value in a message, a log line or <c>ToString()</c>.</summary>
public interface ISecretStore
{
    SecretStoreKind Kind { get; }

    /// <summary>Where secrets live, for display ("AWS Secrets Manager, eu-west-1, prefix hellojohn/").</summary>
    string Location { get; }

    /// <summary>Stores <paramref name="value"/> as the new current version of <paramref name="name"/>, creating the
    /// secret on first use.</summary>
    Task<SecretVersionInfo> PutAsync(string name, string value, CancellationToken ct = default);

    /// <summary>The current version, or the version <paramref name="versionId"/>; null when the secret or that
    /// version does not exist.</summary>
    Task<SecretValue?> GetAsync(string name, string? versionId = null, CancellationToken ct = default);

    /// <summary>Metadata only, never the value; null when the secret does not exist.</summary>
    Task<SecretDescription?> DescribeAsync(string name, CancellationToken ct = default);

    /// <summary>All versions, newest first; empty when the secret does not exist.</summary>
    Task<IReadOnlyList<SecretVersionInfo>> ListVersionsAsync(string name, CancellationToken ct = default);
}

public enum SecretStoreKind
{
    /// <summary>Encrypted with ASP.NET Core Data Protection in the console's own database.</summary>
    Local,
    AwsSecretsManager,
}

public sealed record SecretVersionInfo(string Name, string VersionId, DateTimeOffset? CreatedAt, bool IsCurrent);

public sealed record SecretDescription(
    string Name,
    string Location,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? LastChangedAt,
    string? CurrentVersionId,
    int VersionCount);

/// <summary>A secret's value. <see cref="ToString"/> leaves the value out, so it cannot leak through logs or
/// interpolation by accident.</summary>
public sealed record SecretValue(string Name, string VersionId, DateTimeOffset? CreatedAt, string Value)
{
    public override string ToString() => $"SecretValue {{ Name = {Name}, VersionId = {VersionId}, Value = *** }}";
}
