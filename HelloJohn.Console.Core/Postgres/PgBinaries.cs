namespace HelloJohn.Console.Core.Postgres;

/// <summary>Finds the PostgreSQL programs (pg_dump, pg_restore, initdb, …) on this machine.</summary>
public sealed class PgBinaries
{
    public const string OverrideVariable = "HELLOJOHN_PG_BIN";

    private PgBinaries(string directory, int majorVersion)
    {
        Directory = directory;
        MajorVersion = majorVersion;
    }

    public string Directory { get; }
    public int MajorVersion { get; }

    public string PathOf(string tool) => Path.Combine(Directory, tool);

    /// <summary>Whether the server programs (initdb, pg_ctl) are here too, as the embedded default needs.</summary>
    public bool HasServer => File.Exists(PathOf("initdb")) && File.Exists(PathOf("pg_ctl"));

    /// <summary>Looks in <c>HELLOJOHN_PG_BIN</c>, then the newest <c>/usr/lib/postgresql/*/bin</c> that has a server,
    /// then PATH. Throws with install instructions when none is found.</summary>
    public static PgBinaries Locate(string? overrideDirectory = null)
    {
        var candidates = new List<string>();
        var fromEnv = overrideDirectory ?? Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            candidates.Add(fromEnv);
        }

        if (System.IO.Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (dir: Path.Combine(d, "bin"), version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .OrderByDescending(x => x.version)
                .Select(x => x.dir));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));

        // A folder with the server programs is preferred (the embedded default needs initdb); a client-only
        // installation (a container with postgresql-client) is enough to protect a remote database.
        static bool HasClient(string dir) => File.Exists(Path.Combine(dir, "pg_dump")) && File.Exists(Path.Combine(dir, "pg_restore"));
        var chosen = candidates.FirstOrDefault(d => HasClient(d) && File.Exists(Path.Combine(d, "initdb"))) ?? candidates.FirstOrDefault(HasClient);
        if (chosen is not null)
        {
            return new PgBinaries(chosen, ReadMajorVersion(chosen));
        }

        throw new PgToolsNotFoundException(
            "No PostgreSQL programs were found (looked for pg_dump and pg_restore in HELLOJOHN_PG_BIN, /usr/lib/postgresql/*/bin and PATH). " +
            "Install them, for example with 'apt-get install postgresql' on Debian or Ubuntu, or set HELLOJOHN_PG_BIN to the folder that holds them.");
    }

    private static int ReadMajorVersion(string dir)
    {
        // /usr/lib/postgresql/15/bin names its version; elsewhere ask pg_config's neighbour pg_dump.
        var parent = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(dir).TrimEnd('/')) ?? "");
        if (int.TryParse(parent, out var fromPath))
        {
            return fromPath;
        }

        var (program, args) = ChildProcesses.Command(Path.Combine(dir, "pg_dump"), ["--version"], asServerUser: false);
        using var process = ChildProcesses.StartAsync(() => System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!).GetAwaiter().GetResult();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return ParseMajorVersion(output);
    }

    /// <summary>"pg_dump (PostgreSQL) 15.18 (Debian …)" → 15.</summary>
    public static int ParseMajorVersion(string versionOutput)
    {
        var match = System.Text.RegularExpressions.Regex.Match(versionOutput, @"\)\s+(\d+)");
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}

public sealed class PgToolsNotFoundException(string message) : Exception(message);
