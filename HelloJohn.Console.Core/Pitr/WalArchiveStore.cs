using System.Security.Cryptography;
using HelloJohn.Console.Core.Storage;
using ZstdSharp;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Where PITR files live in the stores: <c>wal/{server}/{timeline}/{segment}.zst</c> (closed segments and
/// <c>.history</c> files), <c>{segment}.partial.zst</c> for the one still being written, and
/// <c>base/{server}/{backup}/</c> for base backups. Every stored file is zstd-compressed and its SHA-256 catalogued.</summary>
public static class PitrKeys
{
    public const string Compressed = ".zst";

    public static string WalPrefix(Guid server) => $"wal/{server:N}/";

    /// <summary>Whether a store key is one of PITR's (WAL or a base backup), which backups' tidying leaves alone.</summary>
    public static bool IsPitrKey(string key) => key.StartsWith("wal/", StringComparison.Ordinal) || key.StartsWith("base/", StringComparison.Ordinal);

    public static string Wal(Guid server, WalFileName file) =>
        $"{WalPrefix(server)}{file.Timeline:X8}/{(file.Kind == WalFileKind.Partial ? file.FileName + ".partial" : file.FileName)}{Compressed}";

    public static string BasePrefix(Guid server, Guid backup, DateTimeOffset startedAt) =>
        $"base/{server:N}/{startedAt.UtcDateTime:yyyyMMdd'T'HHmmss}-{backup.ToString("N")[..8]}/";

    /// <summary>Reads a WAL key back into its file name; false for anything else under the prefix.</summary>
    public static bool TryParseWal(string key, out WalFileName file)
    {
        file = default;
        var name = key[(key.LastIndexOf('/') + 1)..];
        return name.EndsWith(Compressed, StringComparison.Ordinal) && WalFileName.TryParse(name[..^Compressed.Length], out file);
    }
}

/// <summary>The result of storing one file: its key, compressed size and SHA-256.</summary>
public sealed record StoredWalFile(string Key, long SizeBytes, string Sha256, IReadOnlyList<string> Stores);

/// <summary>Compresses files into every store of the daily tier and reads them back, checking the SHA-256.</summary>
public sealed class PitrArchiveStores(IBackupStoreRegistry stores)
{
    public IReadOnlyList<IBackupStore> Targets => stores.StoresOf(BackupTier.Daily);

    /// <summary>Compresses <paramref name="source"/> and writes it under <paramref name="key"/> in every daily store.
    /// A key already there (an earlier attempt that died before the catalog knew) is replaced, and what an upload of it
    /// left unfinished (a console killed while it wrote) is discarded first.</summary>
    public async Task<StoredWalFile> PutAsync(string source, string key, int level, bool small, CancellationToken ct)
    {
        var compressed = new MemoryStream();
        await using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan))
        await using (var zstd = new CompressionStream(compressed, level, leaveOpen: true))
        {
            await input.CopyToAsync(zstd, ct);
        }

        var bytes = compressed.GetBuffer().AsMemory(0, (int)compressed.Length);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes.Span));
        var written = new List<string>();
        foreach (var store in Targets)
        {
            if (small)
            {
                await store.PutSmallAsync(key, bytes, ct);
            }
            else
            {
                if (await store.ExistsAsync(key, ct))
                {
                    await store.DeleteAsync(key, ct);
                }

                await store.DiscardUnfinishedAsync(key, ct);
                await using var upload = await store.BeginUploadAsync(key, ct);
                await upload.Stream.WriteAsync(bytes, ct);
                await upload.CompleteAsync(ct);
            }

            written.Add(store.Name);
        }

        return new StoredWalFile(key, bytes.Length, sha, written);
    }

    /// <summary>Compresses a large file (a base backup's tar) while streaming it into every daily store at once.</summary>
    public async Task<StoredWalFile> PutLargeAsync(string source, string key, int level, CancellationToken ct)
    {
        var uploads = new List<IBackupUpload>();
        try
        {
            foreach (var store in Targets)
            {
                uploads.Add(await store.BeginUploadAsync(key, ct));
            }

            await using var fan = new FanOutStream(uploads.Select(u => u.Stream).ToList());
            await using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
            await using (var zstd = new CompressionStream(fan, level, leaveOpen: true))
            {
                await input.CopyToAsync(zstd, 1 << 20, ct);
            }

            // Each store writes from its own queue: completing an upload before its queue is drained would store a
            // truncated file under the checksum of the whole one (seen as a damaged base backup at restore).
            await fan.FlushAsync(ct);

            for (var i = 0; i < uploads.Count; i++)
            {
                if (fan.FailureOf(i) is { } failure)
                {
                    throw new IOException($"Writing {key} to store '{Targets[i].Name}' failed: {failure.Message}", failure);
                }

                await uploads[i].CompleteAsync(ct);
            }

            return new StoredWalFile(key, fan.BytesWritten, fan.FinishHash(), Targets.Select(s => s.Name).ToList());
        }
        finally
        {
            foreach (var upload in uploads)
            {
                await upload.DisposeAsync();
            }
        }
    }

    /// <summary>Opens the decompressed content of <paramref name="key"/> from the first store that has it; the SHA-256
    /// of the stored bytes is checked when the returned stream has been read to its end.</summary>
    public async Task<Stream> OpenDecompressedAsync(string key, string sha256, CancellationToken ct)
    {
        var store = await FirstHolderAsync(key, ct)
            ?? throw new FileNotFoundException($"{key} is in no store of the daily tier ({string.Join(", ", Targets.Select(s => s.Name))}).");
        var raw = await store.OpenReadAsync(key, ct);
        return new DecompressionStream(new Sha256CheckingStream(raw, sha256, $"{key} in store '{store.Name}'"));
    }

    /// <summary>Writes the decompressed content of <paramref name="key"/> to <paramref name="destination"/> from the
    /// first store that has it, refusing bytes whose SHA-256 is not <paramref name="sha256"/>.</summary>
    public async Task FetchAsync(string key, string? sha256, string destination, CancellationToken ct)
    {
        var store = await FirstHolderAsync(key, ct)
            ?? throw new FileNotFoundException($"{key} is in no store of the daily tier ({string.Join(", ", Targets.Select(s => s.Name))}).");
        var compressed = new MemoryStream();
        await using (var read = await store.OpenReadAsync(key, ct))
        {
            await read.CopyToAsync(compressed, ct);
        }

        compressed.Position = 0;
        if (sha256 is not null && !string.Equals(Convert.ToHexStringLower(SHA256.HashData(compressed.GetBuffer().AsSpan(0, (int)compressed.Length))), sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{key} in store '{store.Name}' does not match its catalogued SHA-256: it was changed or damaged.");
        }

        await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
        await using var zstd = new DecompressionStream(compressed);
        await zstd.CopyToAsync(output, ct);
    }

    public async Task<IBackupStore?> FirstHolderAsync(string key, CancellationToken ct)
    {
        foreach (var store in Targets)
        {
            if (await store.ExistsAsync(key, ct))
            {
                return store;
            }
        }

        return null;
    }

    /// <summary>The WAL files present in the first daily store (the one restores read first).</summary>
    public async Task<IReadOnlyList<(WalFileName File, string Key, long Size)>> ListWalAsync(Guid server, CancellationToken ct)
    {
        var found = new List<(WalFileName, string, long)>();
        if (Targets.Count == 0)
        {
            return found;
        }

        await foreach (var o in Targets[0].ListAsync(PitrKeys.WalPrefix(server), ct))
        {
            if (PitrKeys.TryParseWal(o.Key, out var file))
            {
                found.Add((file, o.Key, o.Size));
            }
        }

        return found;
    }

    public async Task DeleteEverywhereAsync(string key, CancellationToken ct)
    {
        foreach (var store in Targets)
        {
            if (await store.ExistsAsync(key, ct))
            {
                await store.DeleteAsync(key, ct);
            }
        }
    }
}

/// <summary>Reads through, hashing; at the end of the data throws when the SHA-256 is not the expected one.</summary>
internal sealed class Sha256CheckingStream(Stream inner, string expected, string what) : Stream
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _checked;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Check(inner.Read(buffer, offset, count), buffer.AsSpan(offset));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Check(await inner.ReadAsync(buffer, cancellationToken), buffer.Span);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Check(int read, ReadOnlySpan<byte> data)
    {
        if (read > 0)
        {
            _sha.AppendData(data[..read]);
        }
        else if (!_checked)
        {
            _checked = true;
            if (!string.Equals(Convert.ToHexStringLower(_sha.GetHashAndReset()), expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"{what} does not match its catalogued SHA-256: it was changed or damaged. Nothing more was read from it.");
            }
        }

        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _sha.Dispose();
        }

        base.Dispose(disposing);
    }
}
