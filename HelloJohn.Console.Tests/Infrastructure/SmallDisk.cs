using System.Diagnostics;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>A genuinely small filesystem for full-disk tests: a tmpfs of the given size, or a loop-mounted ext4 image
/// where tmpfs cannot be mounted. Both need root (CAP_SYS_ADMIN), which the test machines and CI have.</summary>
public sealed class SmallDisk : IDisposable
{
    private readonly string? _image;

    private SmallDisk(string path, string kind, string? image)
    {
        Path = path;
        Kind = kind;
        _image = image;
    }

    public string Path { get; }

    /// <summary>"tmpfs" or "loop-mounted ext4".</summary>
    public string Kind { get; }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public static SmallDisk Mount(int megabytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"hjc-small-disk-{Guid.NewGuid():N}"[..28]);
        Directory.CreateDirectory(path);
        var tmpfs = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", path);
        if (tmpfs.ExitCode == 0)
        {
            return new SmallDisk(path, "tmpfs", null);
        }

        var image = path + ".img";
        using (var file = File.Create(image))
        {
            file.SetLength(megabytes * 1024L * 1024);
        }

        var mkfs = Run("mkfs.ext4", "-q", "-F", "-m", "0", image);
        var loop = mkfs.ExitCode == 0 ? Run("mount", "-o", "loop", image, path) : mkfs;
        if (loop.ExitCode == 0)
        {
            return new SmallDisk(path, "loop-mounted ext4", image);
        }

        File.Delete(image);
        Directory.Delete(path);
        throw new InvalidOperationException($"A small filesystem could not be mounted for the full-disk test (tmpfs: {tmpfs.Error}; loop: {loop.Error}). It needs root.");
    }

    /// <summary>Writes a filler file so that about <paramref name="bytesLeft"/> stay free (real bytes: a sparse file would
    /// take no room).</summary>
    public string FillLeaving(long bytesLeft, string name = "filler.bin")
    {
        var filler = System.IO.Path.Combine(Path, name);
        var chunk = new byte[64 * 1024];
        using var stream = new FileStream(filler, FileMode.Append, FileAccess.Write);
        while (FreeBytes - bytesLeft >= chunk.Length)
        {
            stream.Write(chunk);
            stream.Flush(flushToDisk: true);
        }

        return filler;
    }

    /// <summary>Writes until the filesystem refuses: it is then at 100 %.</summary>
    public string FillCompletely(string name = "filler-rest.bin")
    {
        var filler = System.IO.Path.Combine(Path, name);
        try
        {
            using var stream = new FileStream(filler, FileMode.Append, FileAccess.Write, FileShare.None, 1);
            var chunk = new byte[4096];
            while (true)
            {
                stream.Write(chunk);
            }
        }
        catch (IOException)
        {
            // No space left on device: what was wanted.
        }

        return filler;
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
            if (_image is not null)
            {
                File.Delete(_image);
            }
        }
        catch (IOException)
        {
            // A leftover empty folder in the temp folder is harmless.
        }
    }

    private static (int ExitCode, string Error) Run(string program, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, error.Trim());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
