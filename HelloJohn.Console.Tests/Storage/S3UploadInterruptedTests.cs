using System.Security.Cryptography;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>Kills the server under a running upload, so it has a server of its own.</summary>
[Trait("Capability", "Storage")]
public class S3UploadInterruptedTests(S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task WriteAsync_ServerStoppedMidUpload_FailsAndLeavesNoObject()
    {
        var store = await s3.CreateStoreAsync(name: "s3", partSizeMiB: 5);
        var upload = await store.BeginUploadAsync("hellojohn_20250315_020000.dump", CancellationToken.None);
        await upload.Stream.WriteAsync(RandomNumberGenerator.GetBytes(6 * 1024 * 1024));

        s3.Kill();
        var failure = await Assert.ThrowsAsync<IOException>(async () =>
        {
            // The next full part (or the last one on completion) cannot reach the server.
            await upload.Stream.WriteAsync(RandomNumberGenerator.GetBytes(6 * 1024 * 1024));
            await upload.CompleteAsync(CancellationToken.None);
        });
        await upload.DisposeAsync();

        Assert.Contains("store 's3'", failure.Message);
        await s3.StartAsync();
        Assert.False(await store.ExistsAsync("hellojohn_20250315_020000.dump", CancellationToken.None));
        Assert.Empty(await S3BackupStoreTests.ToListAsync(store.ListAsync("", CancellationToken.None)));
    }
}
