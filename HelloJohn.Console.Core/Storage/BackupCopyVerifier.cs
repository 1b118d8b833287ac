using System.Security.Cryptography;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging;
using ZstdSharp;

namespace HelloJohn.Console.Core.Storage;

/// <summary>One stored copy of a backup, as found in a store, with the manifest beside it.</summary>
public sealed record StoredCopy(IBackupStore Store, string Key, StoredObject File, BackupManifest Manifest);

/// <summary>Whether a stored copy is the backup its manifest describes. <see cref="Problem"/> says why not, for people.</summary>
public sealed record CopyVerdict(StoredCopy Copy, string? Problem, int TableDataEntries)
{
    public bool IsGood => Problem is null;
}

/// <summary>Proves a stored copy is the backup its manifest describes before the catalog lists it as good: its size and
/// SHA-256 match the manifest and this pg_restore reads its table of contents. One streamed pass: the bytes go
/// through the hash into <c>pg_restore --list</c> (through zstd for a <c>.dump.zst</c>), nothing is written to disk.</summary>
public sealed partial class BackupCopyVerifier(IPgToolRunner pgTools, ILogger<BackupCopyVerifier> logger)
{
    /// <summary>Storage classes whose objects must be restored inside S3 before they can be read.</summary>
    private static readonly string[] ArchivedClasses = ["GLACIER", "DEEP_ARCHIVE"];

    public async Task<CopyVerdict> VerifyAsync(StoredCopy copy, CancellationToken ct)
    {
        var (store, key, file, manifest) = copy;
        if (file.StorageClass is { } storageClass && ArchivedClasses.Contains(storageClass, StringComparer.OrdinalIgnoreCase))
        {
            return new CopyVerdict(copy, $"The copy in store '{store.Name}' is archived in {storageClass}, so it cannot be read to prove it; restore the object inside S3 (RestoreObject), then rebuild the catalog again.", 0);
        }

        if (file.Size != manifest.SizeBytes)
        {
            return new CopyVerdict(copy, $"The file {key} in store '{store.Name}' has {file.Size:N0} bytes but its manifest says {manifest.SizeBytes:N0}: it is incomplete or was changed.", 0);
        }

        PgToolResult list;
        HashingReadStream hashing;
        try
        {
            await using var source = await store.OpenReadAsync(key, ct);
            hashing = new HashingReadStream(source);
            await using var archive = BackupCompression.IsZstd(manifest.Compression) ? new LenientDecompression(hashing) : (Stream)hashing;
            list = await pgTools.RunAsync(new PgToolInvocation("pg_restore", ["--list"]) { StandardInput = archive }, ct);
            // pg_restore stops after the table of contents; the rest of the file still has to match the hash.
            await hashing.DrainAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "Reading {Key} from store {Store} to verify it failed", key, store.Name);
            return new CopyVerdict(copy, $"The file {key} in store '{store.Name}' could not be read to prove it ({e.Message}).", 0);
        }

        var sha256 = hashing.FinishHash();

        if (hashing.BytesRead != manifest.SizeBytes)
        {
            return new CopyVerdict(copy, $"The file {key} in store '{store.Name}' gave {hashing.BytesRead:N0} bytes when read but its manifest says {manifest.SizeBytes:N0}: it is incomplete or was changed.", 0);
        }

        if (!string.Equals(sha256, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return new CopyVerdict(copy, $"The SHA-256 of {key} in store '{store.Name}' is {sha256[..12]}…, its manifest says {Abbreviate(manifest.Sha256)}: the file is not the backup the manifest describes.", 0);
        }

        if (!list.Succeeded)
        {
            return new CopyVerdict(copy, $"pg_restore ({pgTools.Binaries.MajorVersion}) cannot read {key} in store '{store.Name}' as a backup: {list.ErrorSummary}.", 0);
        }

        var entries = TableDataEntry().Matches(list.StandardOutputText).Count;
        logger.LogInformation("{Key} in store {Store} is proven: {Size} bytes, sha256 {Sha}, {Entries} tables of data", key, store.Name, hashing.BytesRead, sha256[..12], entries);
        return new CopyVerdict(copy, null, entries);
    }

    private static string Abbreviate(string sha) => sha.Length > 12 ? sha[..12] + "…" : sha;

    // pg_restore --list: "3345; 0 16390 TABLE DATA public app_user hellojohn"
    [GeneratedRegex(@"^\d+; \d+ \d+ TABLE DATA ", RegexOptions.Multiline)]
    private static partial Regex TableDataEntry();

    /// <summary>Counts and hashes every byte read through it. The store's stream is disposed by its owner, and the hash
    /// by <see cref="FinishHash"/>, which may come after this stream was disposed.</summary>
    private sealed class HashingReadStream(Stream inner) : ReadOnlyStream
    {
        private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long BytesRead { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            _sha256.AppendData(buffer.Span[..n]);
            BytesRead += n;
            return n;
        }

        public async Task DrainAsync(CancellationToken ct)
        {
            var scratch = new byte[1 << 20];
            while (await ReadAsync(scratch, ct) > 0)
            {
            }
        }

        /// <summary>The SHA-256 of every byte read; call once, at the end (the stream may already be disposed).</summary>
        public string FinishHash()
        {
            using (_sha256)
            {
                return Convert.ToHexStringLower(_sha256.GetHashAndReset());
            }
        }
    }

    /// <summary>zstd decompression that ends the stream instead of throwing when the input is not zstd: pg_restore then
    /// says the archive is unreadable, and the hash of the raw file is still taken.</summary>
    private sealed class LenientDecompression(Stream compressed) : ReadOnlyStream
    {
        private readonly DecompressionStream _zstd = new(compressed, leaveOpen: true);
        private bool _broken;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_broken)
            {
                return 0;
            }

            try
            {
                return await _zstd.ReadAsync(buffer, cancellationToken);
            }
            catch (ZstdException)
            {
                _broken = true;
                return 0;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _zstd.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
