using System.Buffers;
using System.Security.Cryptography;
using System.Threading.Channels;
using Humanizer;

namespace HelloJohn.Console.Core.Storage;

/// <summary>A write-only stream that hashes (SHA-256), counts and copies every buffer into each destination, so a
/// dump is read once and stored everywhere at the same time.</summary>
/// <remarks>
/// Each destination has its own bounded queue and its own writer, so a slow store never holds up a fast one while its
/// queue has room. A destination that fails is dropped and remembered, and so is one that takes nothing from its full
/// queue for its stall time (the stream's <see cref="Stream.WriteTimeout"/> when it has one, else
/// <see cref="DefaultStallTimeout"/>): the others go on, so a failing or stalled remote store does not cost the local
/// copy. Only when every destination has failed does a write throw. Data reaches the destinations asynchronously:
/// <see cref="FlushAsync(CancellationToken)"/> waits until each has written (or failed) everything, so call it before
/// completing them.
/// </remarks>
public sealed class FanOutStream : Stream
{
    public static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Buffers queued per destination: with pg_dump's 64–128 KiB writes, a few MiB of slack.</summary>
    private const int QueueDepth = 64;

    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Destination[] _destinations;
    private readonly Action<long>? _onProgress;
    private long _written;

    public FanOutStream(IReadOnlyList<Stream> destinations, Action<long>? onProgress = null)
    {
        _destinations = [.. destinations.Select(d => new Destination(d))];
        _onProgress = onProgress;
    }

    public long BytesWritten => Interlocked.Read(ref _written);

    /// <summary>Why destination <paramref name="index"/> stopped receiving data, or null while it is healthy.</summary>
    public Exception? FailureOf(int index) => _destinations[index].Failure;

    /// <summary>Lower-case hex SHA-256 of everything written. Call once, after the last write.</summary>
    public string FinishHash() => Convert.ToHexStringLower(_sha256.GetHashAndReset());

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => BytesWritten;
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>The compressor writes here synchronously, a block at a time: the block is copied once into a pooled
    /// buffer (never into a new array, which at 128 KiB would land on the large object heap and cost full garbage
    /// collections all through a dump), and the call waits only while a destination's queue is full.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Accept(buffer) is { } pending)
        {
            pending.GetAwaiter().GetResult();
        }

        Written(buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Accept(buffer.Span, cancellationToken) is { } pending)
        {
            await pending;
        }

        Written(buffer.Length);
    }

    /// <summary>Hashes <paramref name="buffer"/> and hands one pooled copy of it to every healthy destination's queue.
    /// Null when every queue took it at once; otherwise the task that ends when the full queues have taken it (or
    /// given up).</summary>
    private Task? Accept(ReadOnlySpan<byte> buffer, CancellationToken ct = default)
    {
        _sha256.AppendData(buffer);
        var healthy = 0;
        foreach (var destination in _destinations)
        {
            healthy += destination.Failure is null ? 1 : 0;
        }

        if (healthy == 0)
        {
            return null;
        }

        var chunk = Chunk.CopyOf(buffer, healthy);
        List<Task>? waiting = null;
        foreach (var destination in _destinations)
        {
            if (destination.Failure is not null)
            {
                continue;
            }

            if (!destination.TryEnqueue(chunk))
            {
                (waiting ??= []).Add(destination.EnqueueAsync(chunk, ct));
            }
        }

        return waiting switch
        {
            null => null,
            [var one] => one,
            _ => Task.WhenAll(waiting),
        };
    }

    private void Written(int count)
    {
        ThrowIfAllFailed();
        var total = Interlocked.Add(ref _written, count);
        _onProgress?.Invoke(total);
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_destinations.Where(d => d.Failure is null).Select(d => d.FlushAsync(cancellationToken)));
        ThrowIfAllFailed();
    }

    private void ThrowIfAllFailed()
    {
        if (_destinations.Length > 0 && _destinations.All(d => d.Failure is not null))
        {
            var first = _destinations[0].Failure!;
            throw new IOException($"No backup store accepted the data: {first.Message}", first);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_destinations.Select(d => d.StopAsync()));
        _sha256.Dispose();
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Task.WhenAll(_destinations.Select(d => d.StopAsync())).GetAwaiter().GetResult();
            _sha256.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>One buffer shared by every destination's queue; back to the pool when the last one has written it.</summary>
    private sealed class Chunk
    {
        private byte[]? _buffer;
        private int _length;
        private int _owners;

        public TaskCompletionSource? Flushed { get; private init; }

        public ReadOnlyMemory<byte> Data => _buffer.AsMemory(0, _length);

        public static Chunk CopyOf(ReadOnlySpan<byte> data, int owners)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(buffer);
            return new Chunk { _buffer = buffer, _length = data.Length, _owners = owners };
        }

        public static Chunk FlushMarker() => new() { Flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), _owners = 1 };

        public void Release()
        {
            Flushed?.TrySetResult();
            if (Interlocked.Decrement(ref _owners) == 0 && Interlocked.Exchange(ref _buffer, null) is { } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private sealed class Destination
    {
        private readonly Stream _stream;
        private readonly Channel<Chunk> _queue = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(QueueDepth) { SingleReader = true, SingleWriter = true });
        private readonly CancellationTokenSource _stop = new();
        private readonly TimeSpan _stallTimeout;
        private readonly Task _writer;
        private Exception? _failure;

        public Destination(Stream stream)
        {
            _stream = stream;
            _stallTimeout = stream.CanTimeout && stream.WriteTimeout > 0 ? TimeSpan.FromMilliseconds(stream.WriteTimeout) : DefaultStallTimeout;
            _writer = Task.Run(WriteLoopAsync);
        }

        public Exception? Failure => Volatile.Read(ref _failure);

        /// <summary>Queues <paramref name="chunk"/> when there is room now; false when the queue is full.</summary>
        public bool TryEnqueue(Chunk chunk) => _queue.Writer.TryWrite(chunk);

        public async Task EnqueueAsync(Chunk chunk, CancellationToken ct)
        {
            if (_queue.Writer.TryWrite(chunk))
            {
                return;
            }

            using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
            stall.CancelAfter(_stallTimeout);
            try
            {
                await _queue.Writer.WriteAsync(chunk, stall.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                chunk.Release();
                Fail(Stalled());
            }
            catch (ChannelClosedException)
            {
                // It failed while this write waited; its reason is already recorded.
                chunk.Release();
            }
        }

        public async Task FlushAsync(CancellationToken ct)
        {
            var marker = Chunk.FlushMarker();
            await EnqueueAsync(marker, ct);
            try
            {
                await marker.Flushed!.Task.WaitAsync(_stallTimeout, ct);
            }
            catch (TimeoutException)
            {
                Fail(Stalled());
            }
        }

        /// <summary>Stops the writer without waiting for a store that does not answer its cancellation.</summary>
        public async Task StopAsync()
        {
            _queue.Writer.TryComplete();
            await _stop.CancelAsync();
            await Task.WhenAny(_writer, Task.Delay(TimeSpan.FromSeconds(5)));
        }

        private IOException Stalled() =>
            new($"it took no data for {_stallTimeout.Humanize()} and was given up so the other stores could go on.");

        private void Fail(Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            _queue.Writer.TryComplete();
            _stop.Cancel();
        }

        private async Task WriteLoopAsync()
        {
            try
            {
                while (await _queue.Reader.WaitToReadAsync(_stop.Token))
                {
                    while (_queue.Reader.TryRead(out var chunk))
                    {
                        try
                        {
                            if (Failure is not null)
                            {
                                continue;
                            }

                            if (chunk.Flushed is not null)
                            {
                                await _stream.FlushAsync(_stop.Token);
                            }
                            else
                            {
                                await _stream.WriteAsync(chunk.Data, _stop.Token);
                            }
                        }
                        catch (Exception e) when (!_stop.IsCancellationRequested || e is not OperationCanceledException)
                        {
                            Fail(e);
                        }
                        finally
                        {
                            chunk.Release();
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped: the stream is being disposed or this destination was given up.
            }
            finally
            {
                while (_queue.Reader.TryRead(out var left))
                {
                    left.Release();
                }
            }
        }
    }
}
