using System.Runtime.CompilerServices;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Backups on a local folder. A file is written as <c>key.partial</c>, flushed to disk and renamed, so a
/// crash never leaves something that looks like a finished backup.</summary>
public sealed class LocalDiskBackupStore(string name, string directory) : IBackupStore
{
    public const string PartialSuffix = ".partial";

    public string Name => name;
    public string Directory => directory;

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
        return Task.FromResult<IBackupUpload>(new LocalUpload(stream, partial, path));
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

    /// <summary>Removes <c>.partial</c> files that no running backup owns (left by a crash).</summary>
    public IReadOnlyList<string> RemovePartialFiles(Func<string, bool> isOwnedByRunningBackup)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + PartialSuffix, SearchOption.AllDirectories))
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

    private sealed class LocalUpload(FileStream stream, string partialPath, string finalPath) : IBackupUpload
    {
        private bool _done;

        public Stream Stream => stream;

        public async Task CompleteAsync(CancellationToken ct)
        {
            await stream.FlushAsync(ct);
            stream.Flush(flushToDisk: true);
            await stream.DisposeAsync();
            File.Move(partialPath, finalPath, overwrite: false);
            _done = true;
        }

        public async Task AbortAsync()
        {
            if (_done)
            {
                return;
            }

            _done = true;
            await stream.DisposeAsync();
            File.Delete(partialPath);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_done)
            {
                await AbortAsync();
            }
        }
    }
}
