using System.Globalization;

namespace HelloJohn.Console.Core.Backups;

public enum CompressionCodec
{
    /// <summary>pg_dump's own compression inside the custom-format archive (PostgreSQL 15 offers gzip only).</summary>
    Gzip,
    /// <summary>pg_dump writes an uncompressed custom-format archive and the console compresses the stream with zstd.
    /// The file ends in <c>.dump.zst</c>; <c>zstd -d</c> gives back the archive pg_restore reads.</summary>
    Zstd,
}

/// <summary>How a backup file is compressed, as written in <c>Backups__Compression</c>, the catalog and the manifest:
/// <c>zstd:N</c> (1–19) or <c>gzip:N</c> (0–9; a bare level means gzip). Why zstd:1 is the default: docs/benchmarks.md.</summary>
public readonly record struct BackupCompression(CompressionCodec Codec, int Level)
{
    public const string ZstdExtension = ".zst";

    public static BackupCompression Default { get; } = new(CompressionCodec.Zstd, 1);

    /// <summary>The level to hand pg_dump's <c>--compress</c>: 0 when the console compresses the stream itself.</summary>
    public int PgDumpLevel => Codec == CompressionCodec.Gzip ? Level : 0;

    /// <summary>What the file name ends with, so a person knows which tool opens it.</summary>
    public string FileExtension => Codec == CompressionCodec.Zstd ? ".dump" + ZstdExtension : ".dump";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(Codec == CompressionCodec.Zstd ? "zstd" : "gzip")}:{Level}");

    public static bool TryParse(string? value, out BackupCompression compression)
    {
        compression = default;
        var text = value?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var (codec, levelText) = text.Split(':', 2) switch
        {
            ["zstd"] => ((CompressionCodec?)CompressionCodec.Zstd, "3"),
            ["zstd", var l] => (CompressionCodec.Zstd, l),
            ["gzip", var l] => (CompressionCodec.Gzip, l),
            [var l] => (CompressionCodec.Gzip, l),
            _ => (null, ""),
        };
        if (codec is not { } c || !int.TryParse(levelText, NumberStyles.None, CultureInfo.InvariantCulture, out var level))
        {
            return false;
        }

        var (min, max) = c == CompressionCodec.Zstd ? (1, 19) : (0, 9);
        if (level < min || level > max)
        {
            return false;
        }

        compression = new BackupCompression(c, level);
        return true;
    }

    public static BackupCompression Parse(string? value) => TryParse(value, out var c)
        ? c
        : throw new FormatException($"'{value}' is not a backup compression: use zstd:1 to zstd:19, or gzip:0 to gzip:9 (pg_dump's own levels).");

    /// <summary>True when a backup whose catalog or manifest says <paramref name="compression"/> must be unpacked with
    /// zstd before pg_restore can read it.</summary>
    public static bool IsZstd(string? compression) => TryParse(compression, out var c) && c.Codec == CompressionCodec.Zstd;

    /// <summary>Wraps the stream pg_dump writes to. Dispose the result before reading the destination's hash or
    /// length: disposing writes the end of the zstd frame.</summary>
    public Stream WrapDumpOutput(Stream destination) =>
        Codec == CompressionCodec.Zstd ? NativeZstd.Compress(destination, Level) : new WriteThroughStream(destination, ownsInner: false);

    /// <summary>Writes the custom-format archive inside a zstd-compressed backup to <paramref name="archivePath"/>, the
    /// seekable file <c>pg_restore -j</c> needs. The same as <c>zstd -d -o archivePath backupPath</c>. Nothing is left
    /// at <paramref name="archivePath"/> when it fails.</summary>
    public static async Task DecompressAsync(string backupPath, string archivePath, CancellationToken ct)
    {
        try
        {
            await using var source = new FileStream(backupPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var zstd = NativeZstd.Decompress(source);
            await using var archive = new FileStream(archivePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                BufferSize = 1 << 16,
                Options = FileOptions.Asynchronous,
                // The archive holds the same password hashes as the backup: readable by the console's user only.
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            await zstd.CopyToAsync(archive, 1 << 20, ct);
        }
        catch
        {
            File.Delete(archivePath);
            throw;
        }
    }
}
