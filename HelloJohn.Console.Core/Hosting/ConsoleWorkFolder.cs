using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>Where the console keeps files that must not outlive the work that needs them: downloaded and decompressed
/// dumps (every user's password hash). Each console process has its own folder, mode 0700, under a root that is 0700
/// too: <c>{data folder}/work</c>, or <c>hellojohn-console-work</c> inside a configured folder such as
/// <c>Restores__WorkDirectory</c> or <c>Pitr__WorkDirectory</c> (whose own mode is left alone: it may be a shared folder). A process holds a lock on its folder for
/// as long as it lives; at start, every folder whose lock can be taken belonged to a process that ended (a crash or
/// kill -9 included) and is removed with all it holds. A process that stops normally removes its own.</summary>
/// <remarks>The lock is an advisory <c>flock</c>, which the kernel drops when its holder dies, so a reused process id
/// (PID 1 in a container) never makes a dead folder look alive.</remarks>
public sealed class ConsoleWorkFolder(string defaultRoot, ILogger<ConsoleWorkFolder> logger) : IDisposable
{
    public const string DefaultFolderName = "work";
    public const string FolderNameInConfigured = "hellojohn-console-work";
    private const string OwnerFileName = ".owner";
    private static readonly TimeSpan LegacyQuietTime = TimeSpan.FromHours(1);
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string Folder, FileStream Owner)> _mine = new(StringComparer.Ordinal);
    private readonly string _id = $"{Environment.ProcessId}-{Guid.NewGuid():N}";

    public string DefaultRoot => Path.GetFullPath(defaultRoot);

    /// <summary>This process's own 0700 folder, under the default root or inside <paramref name="configured"/>, created
    /// on first use; folders left by ended processes there are removed first.</summary>
    public string FolderUnder(string? configured = null)
    {
        var full = RootFor(configured);
        lock (_gate)
        {
            if (_mine.TryGetValue(full, out var existing))
            {
                return existing.Folder;
            }

            EnsureOwnerOnly(full);
            RemoveAbandoned(configured);
            var folder = Path.Combine(full, _id);
            Directory.CreateDirectory(folder, OwnerOnly);
            var owner = new FileStream(Path.Combine(folder, OwnerFileName), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            _mine[full] = (folder, owner);
            return folder;
        }
    }

    /// <summary>Removes the folders of ended processes (under the default root or inside <paramref name="configured"/>),
    /// and the files earlier versions of the console left loose there or in the system temp folder. Returns what was
    /// removed.</summary>
    public IReadOnlyList<string> RemoveAbandoned(string? configured = null)
    {
        var full = RootFor(configured);
        var removed = new List<string>();
        if (Directory.Exists(full))
        {
            foreach (var folder in Directory.EnumerateDirectories(full))
            {
                if (Path.GetFileName(folder) != _id && !IsHeld(folder) && TryDelete(folder, recursive: true))
                {
                    removed.Add(folder);
                }
            }
        }

        var looseIn = string.IsNullOrWhiteSpace(configured) ? Path.GetTempPath() : Path.GetFullPath(configured);
        foreach (var loose in LegacyLeftovers(looseIn))
        {
            if (TryDelete(loose, recursive: false))
            {
                removed.Add(loose);
            }
        }

        if (removed.Count > 0)
        {
            logger.LogWarning("Removed {Count} work file(s) left by console processes that ended before cleaning up: {Paths}", removed.Count, string.Join(", ", removed));
        }

        return removed;
    }

    /// <summary>Removes the folders matching <paramref name="pattern"/> in <paramref name="parent"/> that earlier versions
    /// of the console kept outside a process folder (base backup scratch, WAL reading links), once untouched for an hour.
    /// Returns what was removed.</summary>
    public IReadOnlyList<string> RemoveLegacyFolders(string parent, string pattern)
    {
        var removed = Directory.Exists(parent)
            ? Directory.EnumerateDirectories(parent, pattern)
                .Where(d => Directory.GetLastWriteTimeUtc(d) < DateTime.UtcNow - LegacyQuietTime && TryDelete(d, recursive: true)).ToList()
            : [];
        if (removed.Count > 0)
        {
            logger.LogWarning("Removed {Count} work folder(s) left by earlier console versions: {Paths}", removed.Count, string.Join(", ", removed));
        }

        return removed;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (folder, owner) in _mine.Values)
            {
                owner.Dispose();
                TryDelete(folder, recursive: true);
            }

            _mine.Clear();
        }
    }

    private string RootFor(string? configured) =>
        string.IsNullOrWhiteSpace(configured) ? DefaultRoot : Path.Combine(Path.GetFullPath(configured), FolderNameInConfigured);

    private static bool IsHeld(string folder)
    {
        var ownerFile = Path.Combine(folder, OwnerFileName);
        try
        {
            using var probe = new FileStream(ownerFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            // A folder without its lock file is being created this instant, or was left half-made by a crash: keep a
            // fresh one, remove an old one.
            return Directory.GetLastWriteTimeUtc(folder) > DateTime.UtcNow.AddMinutes(-1);
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Password files and downloaded or decompressed dumps of console versions that wrote them loose. Only those
    /// untouched for an hour: a console of such a version still running on this machine may be using a fresher one.</summary>
    private static IEnumerable<string> LegacyLeftovers(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "hjc-*.pgpass").Concat(Directory.EnumerateFiles(folder, "hjc-restore-*.dump"))
                .Where(f => File.GetLastWriteTimeUtc(f) < DateTime.UtcNow - LegacyQuietTime).ToList()
            : [];

    private static void EnsureOwnerOnly(string root)
    {
        Directory.CreateDirectory(root, OwnerOnly);
        if (OperatingSystem.IsLinux() && File.GetUnixFileMode(root) != OwnerOnly)
        {
            File.SetUnixFileMode(root, OwnerOnly);
        }
    }

    private bool TryDelete(string path, bool recursive)
    {
        try
        {
            if (recursive)
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not remove {Path}: {Message}", path, e.Message);
            return false;
        }
    }
}

/// <summary>At start, removes what ended console processes left in the work folders (the default one, the restores'
/// and point-in-time recovery's work directories) and what earlier versions left loose, before any restore,
/// verification or base backup can run.</summary>
internal sealed class WorkFolderStartupTask(
    ConsoleWorkFolder workFolder,
    Microsoft.Extensions.Options.IOptions<Restores.RestoreOptions> restores,
    Microsoft.Extensions.Options.IOptions<Pitr.PitrOptions> pitr) : IConsoleStartupTask
{
    public Task RunAsync(CancellationToken ct)
    {
        workFolder.RemoveAbandoned();
        workFolder.RemoveLegacyFolders(Path.GetTempPath(), "hjc-waldump-*");
        if (!string.IsNullOrWhiteSpace(restores.Value.WorkDirectory))
        {
            workFolder.RemoveAbandoned(restores.Value.WorkDirectory);
        }

        if (!string.IsNullOrWhiteSpace(pitr.Value.WorkDirectory))
        {
            workFolder.RemoveAbandoned(pitr.Value.WorkDirectory);
            workFolder.RemoveLegacyFolders(Pitr.PitrWorkspace.LegacyScratchOf(pitr.Value.WorkDirectory), "*");
        }

        return Task.CompletedTask;
    }
}
