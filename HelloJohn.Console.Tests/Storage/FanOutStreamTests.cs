using System.Security.Cryptography;
using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>The fan-out under a destination that stops taking data or fails: the others get every byte.</summary>
[Trait("Capability", "Storage")]
public class FanOutStreamTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task WriteAsync_OneDestinationStalls_IsGivenUpAloneAndTheOtherGetsEveryByte()
    {
        var healthy = new MemoryStream();
        var stalled = new StalledStream(stallMilliseconds: 200);
        var data = RandomNumberGenerator.GetBytes(200 * 64 * 1024);
        await using var fanOut = new FanOutStream([healthy, stalled]);

        for (var i = 0; i < data.Length; i += 64 * 1024)
        {
            await fanOut.WriteAsync(data.AsMemory(i, 64 * 1024)).AsTask().WaitAsync(HangGuard);
        }

        await fanOut.FlushAsync().WaitAsync(HangGuard);

        Assert.Null(fanOut.FailureOf(0));
        Assert.Contains("took no data for 200 milliseconds and was given up", fanOut.FailureOf(1)!.Message);
        Assert.Equal(data, healthy.ToArray());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), fanOut.FinishHash());
    }

    [Fact]
    public async Task WriteAsync_EveryDestinationFails_ThrowsWithTheReason()
    {
        await using var fanOut = new FanOutStream([new FailingStream()]);

        var e = await Assert.ThrowsAsync<IOException>(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                await fanOut.WriteAsync(new byte[1024]);
            }

            await fanOut.FlushAsync();
        }).WaitAsync(HangGuard);

        Assert.Equal("No backup store accepted the data: disk on fire", e.Message);
    }

    /// <summary>Accepts nothing, ever, as a hung network store would; declares how long a write may take.</summary>
    private sealed class StalledStream(int stallMilliseconds) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override bool CanTimeout => true;
        public override int WriteTimeout { get => stallMilliseconds; set => throw new NotSupportedException(); }
        public override long Length => 0;
        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            await Task.Delay(Timeout.Infinite, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("disk on fire"));

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("disk on fire");
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
