using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Cross-field rules of the S3 stores. Every message names the environment variable to fix and never repeats a
/// secret value.</summary>
internal sealed partial class S3StorageOptionsValidator : IValidateOptions<S3StorageOptions>
{
    internal static readonly string[] StorageClasses =
        ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "REDUCED_REDUNDANCY"];

    private static readonly string[] Encryptions = ["AES256", "aws:kms"];

    public ValidateOptionsResult Validate(string? name, S3StorageOptions options)
    {
        var errors = new List<string>();
        if (!options.IsConfigured)
        {
            if (HasAnySetting(options) || S3StorageOptions.IsSet(options.Weekly) || S3StorageOptions.IsSet(options.Monthly))
            {
                errors.Add("Storage__S3__Bucket is required: other Storage__S3__* settings are given but no bucket. Set the bucket, or remove the S3 settings to keep backups on local disk only.");
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }

        // A tier section that sets, say, only a region but no bucket or prefix would otherwise be ignored without a word.
        foreach (var (tier, settings) in new[] { ("Weekly", options.Weekly), ("Monthly", options.Monthly) })
        {
            if (HasAnySetting(settings) && !S3StorageOptions.IsSet(settings))
            {
                errors.Add($"Storage__S3__{tier}__Bucket or Storage__S3__{tier}__Prefix is required: other Storage__S3__{tier}__* settings are given, so a {tier.ToLowerInvariant()} store is intended.");
            }
        }

        var stores = options.Stores();
        foreach (var store in stores)
        {
            Check(store, errors);
        }

        foreach (var pair in stores.SelectMany((a, i) => stores.Skip(i + 1).Select(b => (a, b))))
        {
            if (string.Equals(pair.a.ServiceUrl, pair.b.ServiceUrl, StringComparison.OrdinalIgnoreCase)
                && pair.a.Bucket == pair.b.Bucket
                && (pair.a.Prefix.StartsWith(pair.b.Prefix, StringComparison.Ordinal) || pair.b.Prefix.StartsWith(pair.a.Prefix, StringComparison.Ordinal)))
            {
                errors.Add($"{pair.b.ConfigurationKey}__Prefix: store '{pair.b.Name}' would share bucket '{pair.b.Bucket}' and prefix '{pair.b.Prefix}' with store '{pair.a.Name}' (prefix '{pair.a.Prefix}'), so retention deleting from one would delete the other's copies. Give it another bucket or a prefix that does not overlap.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(S3StoreDefinition s, List<string> errors)
    {
        var key = s.ConfigurationKey;
        if (!BucketName().IsMatch(s.Bucket) || s.Bucket.Contains("..", StringComparison.Ordinal))
        {
            errors.Add($"{key}__Bucket: '{s.Bucket}' is not a valid bucket name (3–63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit).");
        }

        if (s.ServiceUrl is not null
            && (!Uri.TryCreate(s.ServiceUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"{key}__ServiceUrl: '{s.ServiceUrl}' is not an absolute http:// or https:// address, e.g. http://minio:9000.");
        }

        if (s.Region is not null && !RegionName().IsMatch(s.Region))
        {
            errors.Add($"{key}__Region: '{s.Region}' is not a region name such as eu-central-1.");
        }

        if (string.IsNullOrEmpty(s.AccessKeyId) != string.IsNullOrEmpty(s.SecretAccessKey))
        {
            errors.Add(string.IsNullOrEmpty(s.AccessKeyId)
                ? $"{key}__AccessKeyId is required when {key}__SecretAccessKey is set. Set both, or neither to use the standard AWS credential chain."
                : $"{key}__SecretAccessKey is required when {key}__AccessKeyId is set. Set both, or neither to use the standard AWS credential chain.");
        }

        if (s.ServerSideEncryption is not null && !Encryptions.Contains(s.ServerSideEncryption, StringComparer.Ordinal))
        {
            errors.Add($"{key}__ServerSideEncryption: '{s.ServerSideEncryption}' is not supported; use AES256 or aws:kms, or leave it empty for the bucket's default.");
        }

        if (s.KmsKeyId is not null && s.ServerSideEncryption != "aws:kms")
        {
            errors.Add($"{key}__KmsKeyId is set but {key}__ServerSideEncryption is not aws:kms; set it to aws:kms or remove the key id.");
        }

        if (!StorageClasses.Contains(s.StorageClass, StringComparer.Ordinal))
        {
            errors.Add($"{key}__StorageClass: '{s.StorageClass}' is not a storage class; use one of {string.Join(", ", StorageClasses)}.");
        }

        if (s.PartSizeMiB is < 5 or > 512)
        {
            errors.Add($"{key}__PartSizeMiB: {s.PartSizeMiB} is out of range; S3 parts are 5 to 512 MiB here.");
        }

        if (s.TimeoutSeconds is < 1 or > 3600)
        {
            errors.Add($"{key}__TimeoutSeconds: {s.TimeoutSeconds} is out of range; give 1 to 3600 seconds for one S3 request.");
        }

        if (s.PartTimeoutSeconds is < 1 or > 86400)
        {
            errors.Add($"{key}__PartTimeoutSeconds: {s.PartTimeoutSeconds} is out of range; give 1 to 86400 seconds for the upload of one part.");
        }
    }

    private static bool HasAnySetting(S3StoreSettings s) =>
        new[] { s.Bucket, s.Prefix, s.Region, s.ServiceUrl, s.AccessKeyId, s.SecretAccessKey, s.ServerSideEncryption, s.KmsKeyId, s.StorageClass }
            .Any(v => !string.IsNullOrWhiteSpace(v)) || s.PartSizeMiB is not null || s.ForcePathStyle is not null
            || s.TimeoutSeconds is not null || s.PartTimeoutSeconds is not null;

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionName();
}
