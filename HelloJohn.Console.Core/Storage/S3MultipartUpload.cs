using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Storage;

/// <summary>One object being written to S3 as a multipart upload. The bytes written to <see cref="Stream"/> fill a part
/// buffer; a full buffer is uploaded while the next one fills, so at most two parts are held in memory whatever the
/// dump's size, and nothing is read twice or spilled to disk.</summary>
internal sealed class S3MultipartUpload : IBackupUpload
{
    private const int MaxParts = 10_000;
    private const int MaxPartSize = 1 << 30;
    /// <summary>The part size doubles every this many parts, so the 10,000-part limit of S3 is reached only past
    /// ~480 GiB with 8 MiB parts, while small dumps keep small buffers.</summary>
    private const int PartsPerSizeStep = 2_000;

    private readonly IAmazonS3 _client;
    private readonly S3BackupStore _store;
    private readonly string _bucket;
    private readonly string _key;
    private readonly string _uploadId;
    private readonly int _basePartSize;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cancel;
    private readonly List<PartETag> _parts = [];
    private byte[] _buffer;
    private int _filled;
    private byte[]? _spare;
    private Task? _inFlight;
    private int _nextPart = 1;
    private long _written;
    private Exception? _failure;
    private UploadState _state;

    public S3MultipartUpload(IAmazonS3 client, S3BackupStore store, string bucket, string key, string uploadId, int basePartSize, ILogger logger, CancellationToken ct)
    {
        _client = client;
        _store = store;
        _bucket = bucket;
        _key = key;
        _uploadId = uploadId;
        _basePartSize = basePartSize;
        _logger = logger;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _buffer = new byte[PartSizeFor(1)];
        Stream = new PartStream(this);
    }

    private enum UploadState
    {
        Open,
        Completed,
        Aborted,
    }

    public Stream Stream { get; }

    public string UploadId => _uploadId;

    internal int PartsUploaded => _parts.Count;

    public async Task CompleteAsync(CancellationToken ct)
    {
        ThrowIfNotOpen();
        try
        {
            // S3 wants at least one part: an empty dump becomes one empty last part.
            if (_filled > 0 || (_parts.Count == 0 && _inFlight is null))
            {
                await ShipBufferAsync();
            }

            await WaitForInFlightAsync();
            var ordered = _parts.OrderBy(p => p.PartNumber).ToList();
            await _store.CallAsync(t => _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = _key,
                UploadId = _uploadId,
                PartETags = ordered,
            }, t), "finish the upload of", _key, ct);
            _state = UploadState.Completed;
            _logger.LogInformation("Completed upload of {Key} to store {Store}: {Bytes} bytes in {Parts} parts", _key, _store.Name, _written, ordered.Count);
        }
        catch (Exception e) when (_state == UploadState.Open)
        {
            await AbortAsync();
            throw Failure(e);
        }
    }

    public async Task AbortAsync()
    {
        if (_state != UploadState.Open)
        {
            return;
        }

        _state = UploadState.Aborted;
        await _cancel.CancelAsync();
        if (_inFlight is { } running)
        {
            // Its outcome no longer matters; the upload is being thrown away.
            await running.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        await _store.AbortQuietlyAsync(_bucket, _key, _uploadId);
    }

    public async ValueTask DisposeAsync()
    {
        await AbortAsync();
        _cancel.Dispose();
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        ThrowIfNotOpen();
        ct.ThrowIfCancellationRequested();
        while (data.Length > 0)
        {
            var n = Math.Min(data.Length, _buffer.Length - _filled);
            data[..n].CopyTo(_buffer.AsMemory(_filled));
            _filled += n;
            _written += n;
            data = data[n..];
            if (_filled == _buffer.Length)
            {
                try
                {
                    await ShipBufferAsync();
                }
                catch (Exception e)
                {
                    await AbortAsync();
                    throw Failure(e);
                }
            }
        }
    }

    private async Task ShipBufferAsync()
    {
        await WaitForInFlightAsync();
        if (_nextPart > MaxParts)
        {
            throw new InvalidOperationException($"The dump is larger than one S3 upload can take ({MaxParts} parts). Raise {_store.Definition.ConfigurationKey}__PartSizeMiB.");
        }

        var number = _nextPart++;
        var buffer = _buffer;
        var length = _filled;
        _inFlight = UploadPartAsync(number, buffer, length);
        var nextSize = PartSizeFor(_nextPart);
        // The spare is the buffer of the part awaited above, so it is free again; the one just handed to the upload
        // becomes the spare for the next round.
        _buffer = _spare is { } spare && spare.Length == nextSize ? spare : new byte[nextSize];
        _spare = buffer.Length == nextSize ? buffer : null;
        _filled = 0;
    }

    private async Task UploadPartAsync(int number, byte[] buffer, int length)
    {
        // The part's own time limit: a stalled service fails this upload on its own, with the reason, and the other
        // stores of the backup go on.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token);
        limit.CancelAfter(_store.Definition.PartTimeout);
        UploadPartResponse response;
        try
        {
            response = await _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _bucket,
                Key = _key,
                UploadId = _uploadId,
                PartNumber = number,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                PartSize = length,
                // The part is in memory: sign it whole rather than as aws-chunked, which S3-compatible servers mishandle.
                UseChunkEncoding = false,
            }, limit.Token);
        }
        catch (OperationCanceledException) when (!_cancel.IsCancellationRequested)
        {
            throw new IOException($"Part {number} ({length:N0} bytes) of '{_key}' was not taken by store '{_store.Name}' within {_store.Definition.PartTimeoutSeconds} s ({_store.Definition.ConfigurationKey}__PartTimeoutSeconds): the service is stalled or too slow. The upload was abandoned after {_written:N0} bytes; no object was stored.");
        }

        _parts.Add(new PartETag(number, response.ETag));
    }

    private async Task WaitForInFlightAsync()
    {
        if (_inFlight is { } running)
        {
            _inFlight = null;
            await running;
        }
    }

    private int PartSizeFor(int partNumber) =>
        (int)Math.Min(MaxPartSize, (long)_basePartSize << Math.Min(10, (partNumber - 1) / PartsPerSizeStep));

    private Exception Failure(Exception e)
    {
        _failure ??= e switch
        {
            IOException or InvalidOperationException => e,
            AmazonServiceException ase => _store.Explain(ase, "upload", _key),
            OperationCanceledException => e,
            _ => new IOException($"Upload of '{_key}' to store '{_store.Name}' (bucket {_bucket}) failed after {_written:N0} bytes: {e.Message}. No object was stored.", e),
        };
        return _failure;
    }

    private void ThrowIfNotOpen()
    {
        if (_failure is not null)
        {
            throw new IOException($"Upload of '{_key}' to store '{_store.Name}' already failed: {_failure.Message}", _failure);
        }

        if (_state != UploadState.Open)
        {
            throw new InvalidOperationException($"Upload of '{_key}' to store '{_store.Name}' is {_state.ToString().ToLowerInvariant()}; nothing more can be written.");
        }
    }

    /// <summary>The write side handed to the pipeline. Disposing it neither completes nor aborts the upload.</summary>
    private sealed class PartStream(S3MultipartUpload upload) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => upload._written;

        // A write waits at most for the part before it: the fan-out gives up on this store after this long without
        // progress, even if the service never answers the cancellation.
        public override bool CanTimeout => true;

        public override int WriteTimeout
        {
            get => (int)Math.Min(int.MaxValue, (upload._store.Definition.PartTimeout + upload._store.Definition.RequestTimeout).TotalMilliseconds);
            set => throw new NotSupportedException();
        }

        public override long Position
        {
            get => upload._written;
            set => throw new NotSupportedException("An upload stream only appends.");
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            upload.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            upload.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Synchronous writers (a hashing or tee stream) still work: a full buffer then waits for its part upload.
        public override void Write(byte[] buffer, int offset, int count) =>
            upload.WriteAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
            // Parts go out when full; the last one on CompleteAsync.
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("An upload stream is write-only.");

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("An upload stream only appends.");

        public override void SetLength(long value) => throw new NotSupportedException("An upload stream only appends.");
    }
}
