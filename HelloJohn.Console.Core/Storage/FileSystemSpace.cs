using System.Runtime.InteropServices;
using Humanizer;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Free space and filesystem identity of local folders, for the checks before a backup and the health page.</summary>
public static partial class FileSystemSpace
{
    /// <summary>Bytes a new file may take on the filesystem holding <paramref name="path"/> (its nearest existing parent).</summary>
    public static long AvailableBytes(string path) => new DriveInfo(ExistingAncestor(path)).AvailableFreeSpace;

    public static long TotalBytes(string path) => new DriveInfo(ExistingAncestor(path)).TotalSize;

    /// <summary>"12 MB free of 50 MB", for messages; never throws.</summary>
    public static string Describe(string path)
    {
        try
        {
            return $"{AvailableBytes(path).Bytes().Humanize("0.#")} free of {TotalBytes(path).Bytes().Humanize("0.#")} on its filesystem";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return "its free space could not be read";
        }
    }

    /// <summary>True when both paths live on one filesystem (the same device), so one filling up fills the other and one
    /// lost disk loses both; null when it cannot be told.</summary>
    public static bool? SameFileSystem(string first, string second) =>
        DeviceOf(first) is { } a && DeviceOf(second) is { } b ? a == b : null;

    private static ulong? DeviceOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct stat starts with st_dev (a 64-bit dev_t) on the 64-bit Linux ABIs .NET runs on; the buffer is larger
        // than the whole structure.
        var buffer = new byte[512];
        return Stat(ExistingAncestor(path), buffer) == 0 ? BitConverter.ToUInt64(buffer, 0) : null;
    }

    private static string ExistingAncestor(string path)
    {
        var dir = new DirectoryInfo(Path.GetFullPath(path));
        while (!dir.Exists && dir.Parent is not null)
        {
            dir = dir.Parent;
        }

        return dir.FullName;
    }

    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
}
