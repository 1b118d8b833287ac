using System.Security.Cryptography;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Core.Restores;

/// <summary>What one read of a backup file found: the stored bytes' size and SHA-256, and where the archive pg_restore
/// reads is. <see cref="UnpackError"/> says why a zstd backup could not be unpacked (the hash still covers every byte).</summary>
internal sealed record BackupFileRead(string ArchivePath, bool Temporary, long Size, string Sha256, Exception? UnpackError);

/// <summary>Reads a backup file once: the SHA-256 and size of the stored bytes are taken while a zstd backup is unpacked
/// (or a remote one downloaded) into a 0600 work file, so no second pass over the file is needed.</summary>
internal static class BackupFileReader
{
    private const int ChunkBytes = 1 << 20;

    public static async Task<BackupFileRead> ReadAsync(IBackupStore store, string key, bool zstd, string workFolder, CancellationToken ct)
    {
        var local = store as LocalDiskBackupStore;
        var writesFile = zstd || local is null;
        string? workFile = null;
        if (writesFile)
        {
            Directory.CreateDirectory(workFolder);
            workFile = Path.Combine(workFolder, $"hjc-restore-{Guid.NewGuid():N}.dump");
        }

        try
        {
            await using var source = await store.OpenReadAsync(key, ct);
            await using var hashing = new HashingReadStream(source);
            Exception? unpackError = null;
            if (writesFile)
            {
                await using var file = CreateWorkFile(workFile!);
                if (zstd)
                {
                    unpackError = await UnpackAsync(hashing, file, ct);
                }
                else
                {
                    await hashing.CopyToAsync(file, ChunkBytes, ct);
                }
            }

            // Whatever the unpacking left unread (all of it for a local plain archive) still belongs in the hash.
            await hashing.CopyToAsync(Stream.Null, ChunkBytes, ct);
            return new BackupFileRead(workFile ?? local!.PathOf(key), writesFile, hashing.BytesRead, hashing.FinishHash(), unpackError);
        }
        catch
        {
            if (workFile is not null)
            {
                File.Delete(workFile);
            }

            throw;
        }
    }

    private static async Task<Exception?> UnpackAsync(Stream packed, FileStream archive, CancellationToken ct)
    {
        try
        {
            await using var unpacked = NativeZstd.Decompress(packed);
            await unpacked.CopyToAsync(archive, ChunkBytes, ct);
            return null;
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or UnauthorizedAccessException))
        {
            // Not zstd, or damaged: reported after the hash, which usually names the real cause (a changed file).
            return e;
        }
    }

    // The archive holds the same password hashes as the backup: readable by the console's user only.
    private static FileStream CreateWorkFile(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.CreateNew,
        Access = FileAccess.Write,
        BufferSize = 0,
        Options = FileOptions.Asynchronous,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    });

    /// <summary>Passes reads through, hashing and counting every byte that goes by.</summary>
    private sealed class HashingReadStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long BytesRead { get; private set; }

        public string FinishHash() => Convert.ToHexStringLower(_sha256.GetHashAndReset());

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            Seen(buffer[..n]);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            Seen(buffer.Span[..n]);
            return n;
        }

        private void Seen(ReadOnlySpan<byte> bytes)
        {
            _sha256.AppendData(bytes);
            BytesRead += bytes.Length;
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
                _sha256.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
