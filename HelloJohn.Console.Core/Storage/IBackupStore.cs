namespace HelloJohn.Console.Core.Storage;

/// <summary>A place backups are kept (local disk, an S3 bucket and prefix). Keys are relative names such as
/// <c>hellojohn_20240120_103000.dump</c>; every dump has its manifest beside it.</summary>
public interface IBackupStore
{
    /// <summary>Unique per configured store: "local", "s3", "s3-weekly", …</summary>
    string Name { get; }

    /// <summary>Starts writing <paramref name="key"/>. Nothing is visible under the key until <see cref="IBackupUpload.CompleteAsync"/>.</summary>
    Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken ct);

    Task<Stream> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>Writes a small object (a manifest) durably in one go.</summary>
    Task PutSmallAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct);

    Task<bool> ExistsAsync(string key, CancellationToken ct);

    Task DeleteAsync(string key, CancellationToken ct);

    IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken ct);

    /// <summary>Removes what uploads of <paramref name="key"/> that never completed left behind (a <c>.partial</c> file,
    /// an S3 multipart upload's parts), after the run writing it died. Returns how many it removed.</summary>
    Task<int> DiscardUnfinishedAsync(string key, CancellationToken ct);
}

/// <summary>One write of one object. Disposing without <see cref="CompleteAsync"/> aborts: nothing half-written remains.</summary>
public interface IBackupUpload : IAsyncDisposable
{
    /// <summary>The pipeline writes the dump bytes here, sequentially, once.</summary>
    Stream Stream { get; }

    Task CompleteAsync(CancellationToken ct);

    Task AbortAsync();
}

public sealed record StoredObject(string Key, long Size, DateTimeOffset LastModified, string? StorageClass);
