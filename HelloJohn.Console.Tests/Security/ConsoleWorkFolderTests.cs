using HelloJohn.Console.Core.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace HelloJohn.Console.Tests.Security;

/// <summary>Files holding dumps live in a 0700 folder of their process; what an ended process left is removed, what a
/// live one holds is not.</summary>
[Trait("Capability", "Security")]
public sealed class ConsoleWorkFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"hjc-work-test-{Guid.NewGuid():N}"[..26]);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void FolderUnder_FirstUse_IsOwnerOnlyAndGoneWhenTheProcessStops()
    {
        string folder;
        using (var work = new ConsoleWorkFolder(_root, NullLogger<ConsoleWorkFolder>.Instance))
        {
            folder = work.FolderUnder();
            Assert.StartsWith(_root + "/", folder);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_root));
            File.WriteAllText(Path.Combine(folder, "hjc-restore-1.dump"), "password hashes");
        }

        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void RemoveAbandoned_FolderOfAnEndedProcessAndLooseOldFiles_AreRemovedALiveOnesIsKept()
    {
        using var live = new ConsoleWorkFolder(_root, NullLogger<ConsoleWorkFolder>.Instance);
        var liveFolder = live.FolderUnder();
        // What kill -9 leaves: a process folder whose lock nobody holds any more, with a decompressed dump inside.
        var dead = Path.Combine(_root, "4242-deadbeef");
        Directory.CreateDirectory(dead);
        File.WriteAllText(Path.Combine(dead, ".owner"), "");
        File.WriteAllText(Path.Combine(dead, "hjc-restore-2.dump"), "password hashes");
        File.SetLastWriteTimeUtc(dead, DateTime.UtcNow.AddHours(-1));
        var configured = Path.Combine(_root, "configured");
        Directory.CreateDirectory(configured);
        var loose = Path.Combine(configured, "hjc-0123.pgpass");
        File.WriteAllText(loose, "host:5432:*:user:secret");
        File.SetLastWriteTimeUtc(loose, DateTime.UtcNow.AddHours(-2));
        var fresh = Path.Combine(configured, "hjc-4567.pgpass");
        File.WriteAllText(fresh, "host:5432:*:user:secret");

        using var starting = new ConsoleWorkFolder(_root, NullLogger<ConsoleWorkFolder>.Instance);
        var removed = starting.RemoveAbandoned().Concat(starting.RemoveAbandoned(configured)).ToList();

        Assert.Contains(dead, removed);
        Assert.Contains(loose, removed);
        Assert.False(Directory.Exists(dead));
        Assert.False(File.Exists(loose));
        Assert.True(Directory.Exists(liveFolder));
        Assert.True(File.Exists(fresh));
    }
}
