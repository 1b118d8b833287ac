using System.Security.Cryptography;
using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Tests.Storage;

[Trait("Capability", "Storage")]
public class S3BackupStoreTests(S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task BeginUploadAsync_PayloadLargerThanOnePart_StreamsPartsAndReadsBackTheSameBytes()
    {
        var store = await s3.CreateStoreAsync(partSizeMiB: 5);
        var payload = RandomNumberGenerator.GetBytes((12 * MiB) + 12345);

        await using (var upload = await store.BeginUploadAsync("hellojohn_20250315_020000.dump", CancellationToken.None))
        {
            // The pipeline writes in small pieces, as pg_dump's output arrives.
            for (var offset = 0; offset < payload.Length; offset += 64 * 1024)
            {
                await upload.Stream.WriteAsync(payload.AsMemory(offset, Math.Min(64 * 1024, payload.Length - offset)));
            }

            await upload.CompleteAsync(CancellationToken.None);
            Assert.Equal(3, ((S3MultipartUpload)upload).PartsUploaded);
        }

        var listed = Assert.Single(await ToListAsync(store.ListAsync("", CancellationToken.None)));
        Assert.Equal("hellojohn_20250315_020000.dump", listed.Key);
        Assert.Equal(payload.Length, listed.Size);
        await using var read = await store.OpenReadAsync("hellojohn_20250315_020000.dump", CancellationToken.None);
        Assert.Equal(SHA256.HashData(payload), await SHA256.HashDataAsync(read));
    }

    [Fact]
    public async Task BeginUploadAsync_SynchronousWrites_AreUploadedToo()
    {
        var store = await s3.CreateStoreAsync(partSizeMiB: 5);
        var payload = RandomNumberGenerator.GetBytes(6 * MiB);

        await using (var upload = await store.BeginUploadAsync("sync.dump", CancellationToken.None))
        {
            upload.Stream.Write(payload, 0, payload.Length);
            await upload.CompleteAsync(CancellationToken.None);
        }

        await using var read = await store.OpenReadAsync("sync.dump", CancellationToken.None);
        Assert.Equal(SHA256.HashData(payload), await SHA256.HashDataAsync(read));
    }

    [Fact]
    public async Task BeginUploadAsync_EmptyPayload_StoresAnEmptyObject()
    {
        var store = await s3.CreateStoreAsync();

        await using (var upload = await store.BeginUploadAsync("empty.dump", CancellationToken.None))
        {
            await upload.CompleteAsync(CancellationToken.None);
        }

        Assert.Equal(0, (await store.HeadAsync("empty.dump", CancellationToken.None))!.Size);
    }

    [Fact]
    public async Task DisposeAsync_WithoutComplete_LeavesNoObject()
    {
        var store = await s3.CreateStoreAsync(partSizeMiB: 5);

        await using (var upload = await store.BeginUploadAsync("abandoned.dump", CancellationToken.None))
        {
            await upload.Stream.WriteAsync(RandomNumberGenerator.GetBytes(7 * MiB));
        }

        Assert.False(await store.ExistsAsync("abandoned.dump", CancellationToken.None));
        Assert.Empty(await ToListAsync(store.ListAsync("", CancellationToken.None)));
    }

    [Fact]
    public async Task AbortAsync_ThenWrite_IsRefused()
    {
        var store = await s3.CreateStoreAsync();
        await using var upload = await store.BeginUploadAsync("aborted.dump", CancellationToken.None);

        await upload.AbortAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => upload.Stream.WriteAsync(new byte[10]).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => upload.CompleteAsync(CancellationToken.None));
        Assert.False(await store.ExistsAsync("aborted.dump", CancellationToken.None));
    }

    [Fact]
    public async Task PutSmallAsync_Manifest_CanBeCheckedReadListedAndDeleted()
    {
        var store = await s3.CreateStoreAsync();
        var json = """{"fileName":"hellojohn_20250315_020000.dump"}"""u8.ToArray();

        await store.PutSmallAsync("hellojohn_20250315_020000.dump.manifest.json", json, CancellationToken.None);
        await store.PutSmallAsync("other/hellojohn_20250316_020000.dump.manifest.json", json, CancellationToken.None);

        Assert.True(await store.ExistsAsync("hellojohn_20250315_020000.dump.manifest.json", CancellationToken.None));
        Assert.Equal(["hellojohn_20250315_020000.dump.manifest.json"], (await ToListAsync(store.ListAsync("hellojohn_", CancellationToken.None))).Select(o => o.Key));
        await using (var read = await store.OpenReadAsync("hellojohn_20250315_020000.dump.manifest.json", CancellationToken.None))
        {
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(json, copy.ToArray());
        }

        await store.DeleteAsync("hellojohn_20250315_020000.dump.manifest.json", CancellationToken.None);

        Assert.False(await store.ExistsAsync("hellojohn_20250315_020000.dump.manifest.json", CancellationToken.None));
        Assert.Equal(["other/hellojohn_20250316_020000.dump.manifest.json"], (await ToListAsync(store.ListAsync("", CancellationToken.None))).Select(o => o.Key));
    }

    [Fact]
    public async Task OpenReadAsync_MissingObject_SaysWhichObjectAndStore()
    {
        var store = await s3.CreateStoreAsync(name: "s3-weekly");

        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => store.OpenReadAsync("nothing.dump", CancellationToken.None));

        Assert.Contains("'nothing.dump' in store 's3-weekly'", e.Message);
    }

    [Fact]
    public async Task CopyFromAsync_ToGlacierStore_CopiesInsideS3WithTheStorageClass()
    {
        var bucket = "copy" + Guid.NewGuid().ToString("N")[..12];
        var daily = await s3.CreateStoreAsync(name: "s3", bucket: bucket, prefix: "daily");
        var monthly = await s3.CreateStoreAsync(name: "s3-monthly", bucket: bucket, prefix: "monthly", storageClass: "GLACIER");
        var payload = RandomNumberGenerator.GetBytes(2 * MiB);
        await using (var upload = await daily.BeginUploadAsync("hellojohn_20250301_020000.dump", CancellationToken.None))
        {
            await upload.Stream.WriteAsync(payload);
            await upload.CompleteAsync(CancellationToken.None);
        }

        await daily.PutSmallAsync("hellojohn_20250301_020000.dump.manifest.json", "{}"u8.ToArray(), CancellationToken.None);

        Assert.True(monthly.CanCopyServerSideFrom(daily));
        await monthly.CopyFromAsync(daily, "hellojohn_20250301_020000.dump", CancellationToken.None);
        await monthly.CopyFromAsync(daily, "hellojohn_20250301_020000.dump.manifest.json", CancellationToken.None);

        Assert.Equal("GLACIER", (await monthly.HeadAsync("hellojohn_20250301_020000.dump", CancellationToken.None))!.StorageClass);
        // Manifests stay readable without a Glacier restore.
        Assert.Equal("STANDARD", (await monthly.HeadAsync("hellojohn_20250301_020000.dump.manifest.json", CancellationToken.None))!.StorageClass);
        Assert.Equal("STANDARD", (await daily.HeadAsync("hellojohn_20250301_020000.dump", CancellationToken.None))!.StorageClass);
        await using var read = await monthly.OpenReadAsync("hellojohn_20250301_020000.dump", CancellationToken.None);
        Assert.Equal(SHA256.HashData(payload), await SHA256.HashDataAsync(read));
    }

    [Fact]
    public async Task CanCopyServerSideFrom_OtherService_IsFalse()
    {
        var here = await s3.CreateStoreAsync();
        var elsewhere = new S3BackupStore(here.Definition with { Name = "s3-weekly", ServiceUrl = "http://127.0.0.1:1" }, Microsoft.Extensions.Logging.Abstractions.NullLogger<S3BackupStore>.Instance);

        Assert.False(elsewhere.CanCopyServerSideFrom(here));
        Assert.False(here.CanCopyServerSideFrom(new LocalDiskBackupStore("local", Path.GetTempPath())));
    }

    internal static async Task<List<StoredObject>> ToListAsync(IAsyncEnumerable<StoredObject> items)
    {
        var list = new List<StoredObject>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
