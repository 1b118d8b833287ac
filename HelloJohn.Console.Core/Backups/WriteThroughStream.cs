namespace HelloJohn.Console.Core.Backups;

/// <summary>Passes writes to <paramref name="inner"/>. Disposing it disposes <paramref name="inner"/> only when it owns it
/// (a compressor writing its frame's end), never the fan-out stream under pg_dump's output; and with it
/// <paramref name="alsoDispose"/> (native settings the inner stream uses).</summary>
internal sealed class WriteThroughStream(Stream inner, bool ownsInner, IDisposable? alsoDispose = null) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (ownsInner)
        {
            await inner.DisposeAsync();
        }

        alsoDispose?.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (ownsInner)
            {
                inner.Dispose();
            }

            alsoDispose?.Dispose();
        }

        base.Dispose(disposing);
    }
}
