using System.Net;
using System.Runtime.CompilerServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Storage;

/// <summary>A backup store in an S3 bucket (AWS or an S3-compatible service). Keys given to it are relative to the
/// store's prefix. Uploads stream through a multipart upload with a bounded part buffer.</summary>
public sealed class S3BackupStore(S3StoreDefinition definition, ILogger<S3BackupStore> logger) : IBackupStore, IDisposable
{
    /// <summary>CopyObject handles at most 5 GiB; larger objects are copied part by part.</summary>
    internal const long SingleCopyLimit = 5L * 1024 * 1024 * 1024;
    private const long CopyPartSize = 512L * 1024 * 1024;

    private readonly IAmazonS3 _client = CreateClient(definition);

    public string Name => definition.Name;

    public S3StoreDefinition Definition => definition;

    public string StorageClass => definition.StorageClass;

    public async Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken ct)
    {
        var fullKey = FullKey(key);
        var request = new InitiateMultipartUploadRequest
        {
            BucketName = definition.Bucket,
            Key = fullKey,
            ContentType = "application/octet-stream",
            StorageClass = S3StorageClass.FindValue(StorageClassFor(key)),
        };
        ApplyEncryption(request);
        var response = await CallAsync(() => _client.InitiateMultipartUploadAsync(request, ct), "start an upload of", key);
        logger.LogInformation("Started multipart upload of {Key} to store {Store} (bucket {Bucket})", fullKey, Name, definition.Bucket);
        return new S3MultipartUpload(_client, this, definition.Bucket, fullKey, response.UploadId, definition.PartSizeMiB * 1024 * 1024, logger, ct);
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken ct)
    {
        var response = await CallAsync(() => _client.GetObjectAsync(definition.Bucket, FullKey(key), ct), "read", key);
        return response.ResponseStream;
    }

    public async Task PutSmallAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var request = new PutObjectRequest
        {
            BucketName = definition.Bucket,
            Key = FullKey(key),
            InputStream = new MemoryStream(content.ToArray(), writable: false),
            ContentType = key.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "application/json" : "application/octet-stream",
            // Manifests stay in STANDARD whatever the store's class: a catalog rebuild must read them without a
            // Glacier restore first.
            StorageClass = S3StorageClass.Standard,
            UseChunkEncoding = false,
        };
        ApplyEncryption(request);
        await CallAsync(() => _client.PutObjectAsync(request, ct), "write", key);
    }

    public async Task<bool> ExistsAsync(string key, CancellationToken ct) => await HeadAsync(key, ct) is not null;

    /// <summary>The object's size, time and storage class, or null when it does not exist.</summary>
    public async Task<StoredObject?> HeadAsync(string key, CancellationToken ct)
    {
        try
        {
            var head = await _client.GetObjectMetadataAsync(definition.Bucket, FullKey(key), ct);
            return new StoredObject(key, head.ContentLength, ToOffset(head.LastModified), head.StorageClass?.Value is { Length: > 0 } sc ? sc : "STANDARD");
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonServiceException e)
        {
            throw Explain(e, "look up", key);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        await CallAsync(() => _client.DeleteObjectAsync(definition.Bucket, FullKey(key), ct), "delete", key);
        logger.LogInformation("Deleted {Key} from store {Store}", key, Name);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        var request = new ListObjectsV2Request { BucketName = definition.Bucket, Prefix = FullKey(prefix) };
        do
        {
            var page = await CallAsync(() => _client.ListObjectsV2Async(request, ct), "list", prefix);
            foreach (var o in page.S3Objects ?? [])
            {
                yield return new StoredObject(o.Key[definition.Prefix.Length..], o.Size ?? 0, ToOffset(o.LastModified), o.StorageClass?.Value);
            }

            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
    }

    /// <summary>True when this store can copy from <paramref name="source"/> inside the S3 service, without the bytes
    /// passing through the console.</summary>
    public bool CanCopyServerSideFrom(IBackupStore source) => source is S3BackupStore s3 && s3.Definition.SharesServiceWith(definition);

    /// <summary>Copies <paramref name="key"/> from <paramref name="source"/> into this store inside S3, with this store's
    /// storage class and encryption, keeping the object's content type and metadata.</summary>
    public async Task CopyFromAsync(S3BackupStore source, string key, CancellationToken ct)
    {
        var sourceKey = source.FullKey(key);
        var head = await CallAsync(() => _client.GetObjectMetadataAsync(source.Definition.Bucket, sourceKey, ct), "look up the copy source", key);
        if (head.ContentLength > SingleCopyLimit)
        {
            await CopyInPartsAsync(source, key, head, ct);
            return;
        }

        // REPLACE with the source's own headers keeps the metadata identical on AWS, and S3-compatible servers apply a
        // new storage class only with REPLACE.
        var request = new CopyObjectRequest
        {
            SourceBucket = source.Definition.Bucket,
            SourceKey = sourceKey,
            DestinationBucket = definition.Bucket,
            DestinationKey = FullKey(key),
            StorageClass = S3StorageClass.FindValue(StorageClassFor(key)),
            MetadataDirective = S3MetadataDirective.REPLACE,
            ContentType = head.Headers.ContentType,
        };
        foreach (var name in head.Metadata.Keys)
        {
            request.Metadata.Add(name, head.Metadata[name]);
        }

        ApplyEncryption(request);
        await CallAsync(() => _client.CopyObjectAsync(request, ct), "copy into", key);
        logger.LogInformation("Copied {Key} from store {Source} to store {Store} ({StorageClass}) inside S3", key, source.Name, Name, request.StorageClass);
    }

    public void Dispose() => _client.Dispose();

    internal string FullKey(string key) => definition.Prefix + key.TrimStart('/');

    private string StorageClassFor(string key) =>
        key.EndsWith(Backups.BackupManifest.Suffix, StringComparison.Ordinal) ? "STANDARD" : definition.StorageClass;

    private async Task CopyInPartsAsync(S3BackupStore source, string key, GetObjectMetadataResponse head, CancellationToken ct)
    {
        var init = new InitiateMultipartUploadRequest
        {
            BucketName = definition.Bucket,
            Key = FullKey(key),
            ContentType = head.Headers.ContentType,
            StorageClass = S3StorageClass.FindValue(StorageClassFor(key)),
        };
        foreach (var name in head.Metadata.Keys)
        {
            init.Metadata.Add(name, head.Metadata[name]);
        }

        ApplyEncryption(init);
        var uploadId = (await CallAsync(() => _client.InitiateMultipartUploadAsync(init, ct), "start a copy into", key)).UploadId;
        try
        {
            var parts = new List<PartETag>();
            var size = head.ContentLength;
            for (long first = 0, number = 1; first < size; first += CopyPartSize, number++)
            {
                var part = await _client.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = source.Definition.Bucket,
                    SourceKey = source.FullKey(key),
                    DestinationBucket = definition.Bucket,
                    DestinationKey = FullKey(key),
                    UploadId = uploadId,
                    PartNumber = (int)number,
                    FirstByte = first,
                    LastByte = Math.Min(first + CopyPartSize, size) - 1,
                }, ct);
                parts.Add(new PartETag((int)number, part.ETag));
            }

            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = definition.Bucket,
                Key = FullKey(key),
                UploadId = uploadId,
                PartETags = parts,
            }, ct);
            logger.LogInformation("Copied {Key} ({Size} bytes, {Parts} parts) from store {Source} to store {Store} inside S3", key, size, parts.Count, source.Name, Name);
        }
        catch (Exception e)
        {
            await AbortQuietlyAsync(definition.Bucket, FullKey(key), uploadId);
            throw e is AmazonServiceException ase ? Explain(ase, "copy into", key) : e;
        }
    }

    public async Task<int> DiscardUnfinishedAsync(string key, CancellationToken ct)
    {
        var fullKey = FullKey(key);
        var uploads = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = definition.Bucket, Prefix = fullKey }, ct);
        var mine = (uploads.MultipartUploads ?? []).Where(u => u.Key == fullKey).ToList();
        foreach (var upload in mine)
        {
            await AbortQuietlyAsync(definition.Bucket, fullKey, upload.UploadId);
        }

        return mine.Count;
    }

    internal async Task AbortQuietlyAsync(string bucket, string fullKey, string uploadId)
    {
        // The caller's token may be the reason we are here: the abort gets its own bounded time.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = fullKey, UploadId = uploadId }, timeout.Token);
            logger.LogInformation("Aborted multipart upload {UploadId} of {Key} in store {Store}", uploadId, fullKey, Name);
        }
        catch (Exception e) when (e is AmazonServiceException or OperationCanceledException or HttpRequestException or IOException)
        {
            // The object was never completed, so no half object is visible; only its parts may linger until a bucket
            // lifecycle rule (AbortIncompleteMultipartUpload) removes them.
            logger.LogWarning("Could not abort multipart upload {UploadId} of {Key} in store {Store} (bucket {Bucket}): {Message}. No object was created; its stored parts are removed by an AbortIncompleteMultipartUpload lifecycle rule on the bucket.",
                uploadId, fullKey, Name, bucket, e.Message);
        }
    }

    private void ApplyEncryption(PutObjectRequest request)
    {
        if (Encryption() is { } method)
        {
            request.ServerSideEncryptionMethod = method;
            request.ServerSideEncryptionKeyManagementServiceKeyId = definition.KmsKeyId;
        }
    }

    private void ApplyEncryption(InitiateMultipartUploadRequest request)
    {
        if (Encryption() is { } method)
        {
            request.ServerSideEncryptionMethod = method;
            request.ServerSideEncryptionKeyManagementServiceKeyId = definition.KmsKeyId;
        }
    }

    private void ApplyEncryption(CopyObjectRequest request)
    {
        if (Encryption() is { } method)
        {
            request.ServerSideEncryptionMethod = method;
            request.ServerSideEncryptionKeyManagementServiceKeyId = definition.KmsKeyId;
        }
    }

    private ServerSideEncryptionMethod? Encryption() => definition.ServerSideEncryption switch
    {
        "AES256" => ServerSideEncryptionMethod.AES256,
        "aws:kms" => ServerSideEncryptionMethod.AWSKMS,
        _ => null,
    };

    private async Task<T> CallAsync<T>(Func<Task<T>> call, string verb, string key)
    {
        try
        {
            return await call();
        }
        catch (AmazonServiceException e)
        {
            throw Explain(e, verb, key);
        }
    }

    /// <summary>Turns an S3 error into a message for people: what failed, where, and what to check.</summary>
    internal Exception Explain(AmazonServiceException e, string verb, string key)
    {
        var where = $"'{key}' in store '{Name}' (bucket {definition.Bucket}{(definition.ServiceUrl is null ? "" : " at " + definition.ServiceUrl)})";
        var code = (e as AmazonS3Exception)?.ErrorCode;
        return (e.StatusCode, code) switch
        {
            (HttpStatusCode.NotFound, "NoSuchBucket") => new InvalidOperationException($"Could not {verb} {where}: the bucket does not exist. Create it or fix {definition.ConfigurationKey}__Bucket.", e),
            (HttpStatusCode.NotFound, _) => new FileNotFoundException($"Could not {verb} {where}: there is no such object. It may have been deleted outside the console; rebuild the catalog from storage to re-sync.", key, e),
            (HttpStatusCode.Forbidden, "InvalidObjectState") or (_, "InvalidObjectState") => new InvalidOperationException($"Could not {verb} {where}: the object is archived in {definition.StorageClass} and must be restored in S3 (RestoreObject) before it can be read.", e),
            (HttpStatusCode.Forbidden, _) => new UnauthorizedAccessException($"Could not {verb} {where}: access denied ({code}). Check the credentials ({definition.ConfigurationKey}__AccessKeyId or the AWS chain) and the bucket policy.", e),
            _ => new IOException($"Could not {verb} {where}: {code ?? e.StatusCode.ToString()}: {e.Message}", e),
        };
    }

    private static DateTimeOffset ToOffset(DateTime? value) =>
        value is { } v ? new DateTimeOffset(v.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : v.ToUniversalTime()) : DateTimeOffset.MinValue;

    private static AmazonS3Client CreateClient(S3StoreDefinition d)
    {
        var config = new AmazonS3Config { ForcePathStyle = d.ForcePathStyle };
        if (d.ServiceUrl is not null)
        {
            config.ServiceURL = d.ServiceUrl;
            config.AuthenticationRegion = d.Region ?? "us-east-1";
            // S3-compatible services often do not know the newer integrity checksums (trailers of aws-chunked bodies):
            // send them only where an operation requires one.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        else if (d.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(d.Region);
        }

        try
        {
            return d.AccessKeyId is not null && d.SecretAccessKey is not null
                ? new AmazonS3Client(new BasicAWSCredentials(d.AccessKeyId, d.SecretAccessKey), config)
                : new AmazonS3Client(config);
        }
        catch (AmazonClientException e) when (d.Region is null && d.ServiceUrl is null)
        {
            throw new InvalidOperationException($"Store '{d.Name}' has no region: {d.ConfigurationKey}__Region is not set and the standard AWS chain (AWS_REGION, the profile) gives none. Set one of them. No backup was written to it.", e);
        }
    }
}
