using System.Runtime.InteropServices;
using ZstdNet;

namespace HelloJohn.Console.Core.Backups;

/// <summary>zstd through the native library (ZstdNet over libzstd): compression runs on libzstd's own worker threads,
/// so reading pg_dump's output never waits for it. The library is the one ZstdNet ships for this platform; where that
/// cannot be loaded, the system's <c>libzstd.so.1</c> (Debian's libzstd1) is used.</summary>
public static class NativeZstd
{
    private const string SystemLibrary = "libzstd.so.1";

    static NativeZstd() => NativeLibrary.SetDllImportResolver(typeof(Compressor).Assembly, Resolve);

    /// <summary>Worker threads of one compression: one per core, up to four (more buys nothing at level 1).</summary>
    public static int Workers => Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>A write-only stream that compresses into <paramref name="destination"/>, which it leaves open. The frame
    /// carries a content checksum, so <c>zstd -d</c> and <c>zstd -t</c> prove the unpacked bytes as well. Dispose it to
    /// write the end of the frame.</summary>
    public static Stream Compress(Stream destination, int level)
    {
        var options = new CompressionOptions(null, new Dictionary<ZSTD_cParameter, int>
        {
            [ZSTD_cParameter.ZSTD_c_nbWorkers] = Workers,
            [ZSTD_cParameter.ZSTD_c_checksumFlag] = 1,
        }, level);
        return new WriteThroughStream(new CompressionStream(destination, options, 0), ownsInner: true, alsoDispose: options);
    }

    /// <summary>A read-only stream of what <paramref name="source"/> holds unpacked. Disposing it leaves the source open.</summary>
    public static Stream Decompress(Stream source) => new DecompressionStream(source, 1 << 20);

    private static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (!name.Contains("zstd", StringComparison.Ordinal))
        {
            return IntPtr.Zero;
        }

        return NativeLibrary.TryLoad(name, assembly, path, out var bundled) ? bundled
            : NativeLibrary.TryLoad(SystemLibrary, out var system) ? system
            : throw new DllNotFoundException(
                $"libzstd could not be loaded (neither ZstdNet's own build nor {SystemLibrary}). Install it (apt-get install libzstd1), or set Backups__Compression=gzip:6.");
    }
}
