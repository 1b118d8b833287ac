using System.Security.Cryptography;

namespace HelloJohn.Console.Core.Storage;

/// <summary>A write-only stream that hashes (SHA-256), counts and copies every buffer into each destination, so a
/// dump is read once and stored everywhere at the same time.</summary>
public sealed class FanOutStream(IReadOnlyList<Stream> destinations, Action<long>? onProgress = null) : Stream
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _written;

    public long BytesWritten => Interlocked.Read(ref _written);

    /// <summary>Lower-case hex SHA-256 of everything written. Call once, after the last write.</summary>
    public string FinishHash() => Convert.ToHexStringLower(_sha256.GetHashAndReset());

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => BytesWritten;
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _sha256.AppendData(buffer);
        foreach (var d in destinations)
        {
            d.Write(buffer);
        }

        Advance(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _sha256.AppendData(buffer.Span);
        foreach (var d in destinations)
        {
            await d.WriteAsync(buffer, cancellationToken);
        }

        Advance(buffer.Length);
    }

    private void Advance(int count)
    {
        var total = Interlocked.Add(ref _written, count);
        onProgress?.Invoke(total);
    }

    public override void Flush()
    {
        foreach (var d in destinations)
        {
            d.Flush();
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var d in destinations)
        {
            await d.FlushAsync(cancellationToken);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha256.Dispose();
        }

        base.Dispose(disposing);
    }
}
