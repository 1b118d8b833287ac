using System.ComponentModel.DataAnnotations;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Settings of one S3 (or S3-compatible) store. Left empty in a tier store (<see cref="S3StorageOptions.Weekly"/>,
/// <see cref="S3StorageOptions.Monthly"/>), a setting is taken from the main <c>Storage:S3</c> section.</summary>
public class S3StoreSettings
{
    public string? Bucket { get; set; }
    /// <summary>Folder inside the bucket, e.g. <c>hellojohn/production</c>. Keys of this store live under it.</summary>
    public string? Prefix { get; set; }
    /// <summary>AWS region, e.g. <c>eu-central-1</c>. Empty: taken from the standard AWS chain (AWS_REGION, profile).</summary>
    public string? Region { get; set; }
    /// <summary>Endpoint of an S3-compatible service (MinIO, Ceph, s3rver), e.g. <c>http://minio:9000</c>.</summary>
    public string? ServiceUrl { get; set; }
    /// <summary>Address buckets as <c>host/bucket</c> instead of <c>bucket.host</c>; most S3-compatible services need it.
    /// Defaults to true when <see cref="ServiceUrl"/> is set.</summary>
    public bool? ForcePathStyle { get; set; }
    /// <summary>Empty: credentials come from the standard AWS chain (environment, profile, instance or task role).</summary>
    public string? AccessKeyId { get; set; }
    /// <summary>A secret: never logged, shown or put in a message.</summary>
    public string? SecretAccessKey { get; set; }
    /// <summary><c>AES256</c> or <c>aws:kms</c>; empty for the bucket's default.</summary>
    public string? ServerSideEncryption { get; set; }
    /// <summary>Only with <c>aws:kms</c>: the key id or ARN; empty for the account's default KMS key.</summary>
    public string? KmsKeyId { get; set; }
    /// <summary>Storage class of the backup files, e.g. <c>STANDARD</c>, <c>STANDARD_IA</c>, <c>GLACIER</c>.</summary>
    public string? StorageClass { get; set; }
    /// <summary>Size of one multipart-upload part in MiB (5–512). Memory used by an upload stays at about two parts.</summary>
    [Range(5, 512)]
    public int? PartSizeMiB { get; set; }
    /// <summary>Longest wait, in seconds, for one S3 request (a listing page, a manifest, starting or finishing an upload)
    /// and for each read of a download to return data. Default 60.</summary>
    public int? TimeoutSeconds { get; set; }
    /// <summary>Longest time, in seconds, one multipart part may take to upload. Default 300 (8 MiB at under 30 KB/s).
    /// A store that does not take a part within it fails on its own, with this reason; the other stores go on.</summary>
    public int? PartTimeoutSeconds { get; set; }
}

/// <summary>The S3 stores: <c>s3</c> (daily tier, beside the local disk), and optionally <c>s3-weekly</c> (e.g. a
/// bucket in another region) and <c>s3-monthly</c> (GLACIER by default).</summary>
public class S3StorageOptions : S3StoreSettings
{
    public const string Section = "Storage:S3";
    public const string MainStoreName = "s3";
    public const string WeeklyStoreName = "s3-weekly";
    public const string MonthlyStoreName = "s3-monthly";
    public const int DefaultPartSizeMiB = 8;
    public const int DefaultTimeoutSeconds = 60;
    public const int DefaultPartTimeoutSeconds = 300;

    public S3StoreSettings Weekly { get; set; } = new();
    public S3StoreSettings Monthly { get; set; } = new();

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Bucket);

    /// <summary>The configured stores with their settings resolved (tier stores inherit the main section's values).</summary>
    public IReadOnlyList<S3StoreDefinition> Stores()
    {
        if (!IsConfigured)
        {
            return [];
        }

        var stores = new List<S3StoreDefinition> { Resolve(MainStoreName, "Storage__S3", this, defaultStorageClass: "STANDARD") };
        if (IsSet(Weekly))
        {
            stores.Add(Resolve(WeeklyStoreName, "Storage__S3__Weekly", Weekly, defaultStorageClass: "STANDARD"));
        }

        if (IsSet(Monthly))
        {
            stores.Add(Resolve(MonthlyStoreName, "Storage__S3__Monthly", Monthly, defaultStorageClass: "GLACIER"));
        }

        return stores;
    }

    /// <summary>A tier store exists once it names a bucket or a prefix of its own.</summary>
    internal static bool IsSet(S3StoreSettings s) => !string.IsNullOrWhiteSpace(s.Bucket) || !string.IsNullOrWhiteSpace(s.Prefix);

    private S3StoreDefinition Resolve(string name, string keyPrefix, S3StoreSettings s, string defaultStorageClass)
    {
        var serviceUrl = Pick(s.ServiceUrl, ServiceUrl);
        return new S3StoreDefinition(name, keyPrefix)
        {
            Bucket = Pick(s.Bucket, Bucket)!,
            Prefix = NormalizePrefix(ReferenceEquals(s, this) ? Prefix : s.Prefix),
            Region = Pick(s.Region, Region),
            ServiceUrl = serviceUrl,
            ForcePathStyle = s.ForcePathStyle ?? ForcePathStyle ?? serviceUrl is not null,
            AccessKeyId = Pick(s.AccessKeyId, AccessKeyId),
            SecretAccessKey = Pick(s.SecretAccessKey, SecretAccessKey),
            ServerSideEncryption = Pick(s.ServerSideEncryption, ServerSideEncryption),
            KmsKeyId = Pick(s.KmsKeyId, KmsKeyId),
            // Not inherited: each tier has its own class (the monthly tier defaults to GLACIER whatever the daily one uses).
            StorageClass = s.StorageClass is { Length: > 0 } sc ? sc.Trim().ToUpperInvariant() : defaultStorageClass,
            PartSizeMiB = s.PartSizeMiB ?? PartSizeMiB ?? DefaultPartSizeMiB,
            TimeoutSeconds = s.TimeoutSeconds ?? TimeoutSeconds ?? DefaultTimeoutSeconds,
            PartTimeoutSeconds = s.PartTimeoutSeconds ?? PartTimeoutSeconds ?? DefaultPartTimeoutSeconds,
        };
    }

    private static string? Pick(string? own, string? inherited) =>
        !string.IsNullOrWhiteSpace(own) ? own.Trim() : string.IsNullOrWhiteSpace(inherited) ? null : inherited.Trim();

    internal static string NormalizePrefix(string? prefix)
    {
        var p = (prefix ?? "").Trim().Trim('/');
        return p.Length == 0 ? "" : p + "/";
    }
}

/// <summary>One S3 store with every setting resolved. <see cref="ConfigurationKey"/> is the environment-variable form of
/// its section, for error messages.</summary>
public sealed record S3StoreDefinition(string Name, string ConfigurationKey)
{
    public required string Bucket { get; init; }
    public required string Prefix { get; init; }
    public string? Region { get; init; }
    public string? ServiceUrl { get; init; }
    public bool ForcePathStyle { get; init; }
    public string? AccessKeyId { get; init; }
    public string? SecretAccessKey { get; init; }
    public string? ServerSideEncryption { get; init; }
    public string? KmsKeyId { get; init; }
    public required string StorageClass { get; init; }
    public int PartSizeMiB { get; init; }
    public int TimeoutSeconds { get; init; } = S3StorageOptions.DefaultTimeoutSeconds;
    public int PartTimeoutSeconds { get; init; } = S3StorageOptions.DefaultPartTimeoutSeconds;

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(TimeoutSeconds);
    public TimeSpan PartTimeout => TimeSpan.FromSeconds(PartTimeoutSeconds);

    /// <summary>Two stores can copy between each other server-side when the same service and identity reach both.</summary>
    public bool SharesServiceWith(S3StoreDefinition other) =>
        string.Equals(ServiceUrl?.TrimEnd('/'), other.ServiceUrl?.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)
        && string.Equals(AccessKeyId, other.AccessKeyId, StringComparison.Ordinal);

    // A record prints all its members by default; the secret must never reach a log line or an exception message.
    public override string ToString() =>
        $"{Name} (s3://{Bucket}/{Prefix}{(ServiceUrl is null ? "" : " at " + ServiceUrl)}, {StorageClass})";
}
