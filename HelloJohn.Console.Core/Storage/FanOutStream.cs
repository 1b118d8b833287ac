using System.Security.Cryptography;

namespace HelloJohn.Console.Core.Storage;

/// <summary>A write-only stream that hashes (SHA-256), counts and copies every buffer into each destination, so a
/// dump is read once and stored everywhere at the same time. A destination that fails is dropped and remembered; the
/// others go on, so a failing remote store does not cost the local copy. Only when every destination has failed does
/// a write throw.</summary>
public sealed class FanOutStream(IReadOnlyList<Stream> destinations, Action<long>? onProgress = null) : Stream
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Exception?[] _failures = new Exception?[destinations.Count];
    private long _written;

    public long BytesWritten => Interlocked.Read(ref _written);

    /// <summary>Why destination <paramref name="index"/> stopped receiving data, or null while it is healthy.</summary>
    public Exception? FailureOf(int index) => _failures[index];

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
        for (var i = 0; i < destinations.Count; i++)
        {
            if (_failures[i] is not null)
            {
                continue;
            }

            try
            {
                destinations[i].Write(buffer);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _failures[i] = e;
            }
        }

        ThrowIfAllFailed();
        Advance(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _sha256.AppendData(buffer.Span);
        for (var i = 0; i < destinations.Count; i++)
        {
            if (_failures[i] is not null)
            {
                continue;
            }

            try
            {
                await destinations[i].WriteAsync(buffer, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _failures[i] = e;
            }
        }

        ThrowIfAllFailed();
        Advance(buffer.Length);
    }

    private void Advance(int count)
    {
        var total = Interlocked.Add(ref _written, count);
        onProgress?.Invoke(total);
    }

    private void ThrowIfAllFailed()
    {
        if (_failures.All(f => f is not null) && _failures.Length > 0)
        {
            throw new IOException($"No backup store accepted the data: {_failures[0]!.Message}", _failures[0]);
        }
    }

    public override void Flush()
    {
        for (var i = 0; i < destinations.Count; i++)
        {
            try
            {
                if (_failures[i] is null)
                {
                    destinations[i].Flush();
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _failures[i] = e;
            }
        }

        ThrowIfAllFailed();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < destinations.Count; i++)
        {
            try
            {
                if (_failures[i] is null)
                {
                    await destinations[i].FlushAsync(cancellationToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _failures[i] = e;
            }
        }

        ThrowIfAllFailed();
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
