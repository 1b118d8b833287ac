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

    [Fact]
    public async Task Write_Synchronously_AsTheCompressorDoes_EveryDestinationGetsEveryByteThoughTheCallerReusesItsBuffer()
    {
        // One destination slower than the writer, so its queue fills and the synchronous writes wait for room.
        var fast = new MemoryStream();
        var slow = new SlowStream();
        var data = RandomNumberGenerator.GetBytes(300 * 32 * 1024 + 123);
        await using var fanOut = new FanOutStream([fast, slow]);

        await Task.Run(() =>
        {
            var reused = new byte[32 * 1024];
            for (var i = 0; i < data.Length; i += reused.Length)
            {
                var n = Math.Min(reused.Length, data.Length - i);
                data.AsSpan(i, n).CopyTo(reused);
                fanOut.Write(reused, 0, n);
                Array.Fill(reused, (byte)0xEE);
            }

            fanOut.Flush();
        }).WaitAsync(HangGuard);

        Assert.Null(fanOut.FailureOf(0));
        Assert.Null(fanOut.FailureOf(1));
        Assert.Equal(data, fast.ToArray());
        Assert.Equal(data, slow.Written.ToArray());
        Assert.Equal(data.Length, fanOut.BytesWritten);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), fanOut.FinishHash());
    }

    /// <summary>Takes every write after a pause.</summary>
    private sealed class SlowStream : Stream
    {
        public MemoryStream Written { get; } = new();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written.Length;
        public override long Position { get => Written.Length; set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(1, cancellationToken);
            Written.Write(buffer.Span);
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
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
