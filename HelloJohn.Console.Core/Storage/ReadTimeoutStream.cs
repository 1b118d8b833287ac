namespace HelloJohn.Console.Core.Storage;

/// <summary>The body of a download, where each read must return within <paramref name="timeout"/>. A network stream
/// has no read timeout of its own once the headers are in, so a stalled server would otherwise hang the reader.</summary>
internal sealed class ReadTimeoutStream(IDisposable owner, Stream inner, TimeSpan timeout, Func<Exception> describe) : ReadOnlyStream
{
    public ReadTimeoutStream(Amazon.S3.Model.GetObjectResponse response, TimeSpan timeout, Func<Exception> describe)
        : this(response, response.ResponseStream, timeout, describe)
    {
    }

    public override long Length => inner.Length;
    public override bool CanTimeout => true;
    public override int ReadTimeout { get => (int)timeout.TotalMilliseconds; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            return await inner.ReadAsync(buffer, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw describe();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner.Dispose();
        }

        base.Dispose(disposing);
    }
}
