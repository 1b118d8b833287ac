using System.Runtime.CompilerServices;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Backups on a local folder. A file is written as <c>key.partial</c>, flushed to disk and renamed, so a
/// crash never leaves something that looks like a finished backup; a write that fails (a full disk) removes its
/// <c>.partial</c> at once, so the space comes back without waiting for a restart.</summary>
/// <param name="writeTimeout">How long one write may take before the backup gives this store up (a hung network
/// folder); <see cref="FanOutStream.DefaultStallTimeout"/> when null.</param>
public sealed class LocalDiskBackupStore(string name, string directory, TimeSpan? writeTimeout = null) : IBackupStore
{
    public const string PartialSuffix = ".partial";

    public string Name => name;
    public string Directory => directory;

    /// <summary>Bytes a new file may still take in the folder (its nearest existing parent when it does not exist yet).</summary>
    public long AvailableBytes() => FileSystemSpace.AvailableBytes(directory);

    public string PathOf(string key)
    {
        var full = Path.GetFullPath(Path.Combine(directory, key));
        if (!full.StartsWith(Path.GetFullPath(directory).TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The key '{key}' points outside the backup folder.", nameof(key));
        }

        return full;
    }

    public Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            throw new IOException($"{path} already exists; a backup file is never overwritten.");
        }

        var partial = path + PartialSuffix;
        var stream = new FileStream(partial, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            Options = FileOptions.Asynchronous,
            // Backups hold every user's password hash: readable by the console's user only.
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        return Task.FromResult<IBackupUpload>(new LocalUpload(stream, partial, path, name, writeTimeout ?? FanOutStream.DefaultStallTimeout));
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The backup file {key} is not in {directory}.", path);
        }

        return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));
    }

    public async Task PutSmallAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var path = PathOf(key);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = path + PartialSuffix;
        try
        {
            await using (var stream = new FileStream(partial, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                await stream.WriteAsync(content, ct);
                stream.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            // A full disk fails the write or the final flush; what was written must not stay and keep the disk full.
            File.Delete(partial);
            throw;
        }
    }

    public Task<bool> ExistsAsync(string key, CancellationToken ct) => Task.FromResult(File.Exists(PathOf(key)));

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            yield break;
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(directory, file);
            if (key.EndsWith(PartialSuffix, StringComparison.Ordinal) || !key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var info = new FileInfo(file);
            if (!info.Exists)
            {
                // Removed while the folder was listed (a superseded partial WAL copy, a backup retention removed).
                continue;
            }

            yield return new StoredObject(key, info.Length, info.LastWriteTimeUtc, null);
            await Task.Yield();
        }
    }

    public Task<int> DiscardUnfinishedAsync(string key, CancellationToken ct)
    {
        var partial = PathOf(key) + PartialSuffix;
        if (!File.Exists(partial))
        {
            return Task.FromResult(0);
        }

        File.Delete(partial);
        return Task.FromResult(1);
    }

    /// <summary>Removes <c>.partial</c> files that no running backup owns (left by a crash). Only the store's own folder,
    /// where backup files are written: the folders under it belong to point-in-time recovery (base backups and WAL being
    /// written), whose files are no backup's and must not be taken from under it.</summary>
    public IReadOnlyList<string> RemovePartialFiles(Func<string, bool> isOwnedByRunningBackup)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + PartialSuffix, SearchOption.TopDirectoryOnly))
        {
            var key = Path.GetRelativePath(directory, file)[..^PartialSuffix.Length];
            if (!isOwnedByRunningBackup(key))
            {
                File.Delete(file);
                removed.Add(key);
            }
        }

        return removed;
    }

    /// <summary>Throws with a clear message unless the folder exists (or can be created) and accepts a new file.</summary>
    public void EnsureWritable()
    {
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The backup folder {directory} is not writable ({e.Message}). Fix its permissions or set Storage__Local__Directory to a writable folder.", e);
        }
    }

    /// <summary>The <c>.partial</c> file of one backup. It is deleted at once when a write fails, when completing fails and
    /// when the upload is aborted, whatever closing the file throws on a full disk.</summary>
    private sealed class LocalUpload(FileStream file, string partialPath, string finalPath, string storeName, TimeSpan writeTimeout) : Stream, IBackupUpload
    {
        private int _done;

        public Stream Stream => this;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override bool CanTimeout => true;
        public override int WriteTimeout { get => (int)Math.Min(int.MaxValue, writeTimeout.TotalMilliseconds); set => throw new NotSupportedException(); }
        public override long Length => file.Length;
        public override long Position { get => file.Position; set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await file.WriteAsync(buffer, cancellationToken);
            }
            catch (IOException e)
            {
                throw await FailedAsync(e);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            try
            {
                await file.FlushAsync(cancellationToken);
            }
            catch (IOException e)
            {
                throw await FailedAsync(e);
            }
        }

        public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

        public async Task CompleteAsync(CancellationToken ct)
        {
            try
            {
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
                await file.DisposeAsync();
                File.Move(partialPath, finalPath, overwrite: false);
                Interlocked.Exchange(ref _done, 1);
            }
            catch (IOException e)
            {
                throw await FailedAsync(e);
            }
        }

        public async Task AbortAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1)
            {
                return;
            }

            try
            {
                // Closing flushes what is buffered, which fails again on a full disk: the file goes either way.
                await file.DisposeAsync();
            }
            catch (IOException)
            {
                // The handle is closed all the same.
            }
            finally
            {
                File.Delete(partialPath);
            }
        }

        public override async ValueTask DisposeAsync()
        {
            await AbortAsync();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                AbortAsync().GetAwaiter().GetResult();
            }

            base.Dispose(disposing);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        private async Task<IOException> FailedAsync(IOException e)
        {
            await AbortAsync();
            return new IOException($"Writing {Path.GetFileName(finalPath)} to store '{storeName}' ({Path.GetDirectoryName(finalPath)}) failed: {e.Message.TrimEnd('.')}. Its partial file was removed; {FileSystemSpace.Describe(Path.GetDirectoryName(finalPath)!)}.", e);
        }
    }
}
