namespace HelloJohn.Console.Core.Verification.Scratch;

/// <summary>PostgreSQL's server programs for one major version, as Debian and Ubuntu install them
/// (<c>/usr/lib/postgresql/16/bin</c>).</summary>
public sealed record ServerInstallation(int Major, string BinDirectory);

/// <summary>Finds which PostgreSQL server versions this machine can run, and picks the one a scratch cluster for a
/// target needs: its major version, else the nearest newer one (pg_restore's archives load into newer servers).</summary>
public static class ServerInstallations
{
    public const string DefaultRoot = "/usr/lib/postgresql";

    private static readonly string[] ServerPrograms = ["initdb", "pg_ctl", "postgres"];

    /// <summary>Every <c>root/N/bin</c> that holds initdb, pg_ctl and postgres, oldest first.</summary>
    public static IReadOnlyList<ServerInstallation> Find(string root)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        return [.. Directory.GetDirectories(root)
            .Select(d => (Dir: Path.Combine(d, "bin"), Major: int.TryParse(Path.GetFileName(d), out var m) ? m : 0))
            .Where(x => x.Major > 0 && ServerPrograms.All(p => File.Exists(Path.Combine(x.Dir, p))))
            .OrderBy(x => x.Major)
            .Select(x => new ServerInstallation(x.Major, x.Dir))];
    }

    /// <summary>The installation for a target of <paramref name="targetMajor"/>: the same major version, else the
    /// oldest newer one; null when none is at least as new.</summary>
    public static ServerInstallation? Pick(IReadOnlyList<ServerInstallation> found, int targetMajor) =>
        found.Where(i => i.Major >= targetMajor).MinBy(i => i.Major);

    /// <summary>What to tell people when no installation fits: what is missing, which package adds it, and the other way.</summary>
    public static string Missing(IReadOnlyList<ServerInstallation> found, string root, int targetMajor)
    {
        var present = found.Count == 0 ? $"there are none in {root}" : $"{root} holds only {string.Join(", ", found.Select(f => f.Major))}";
        return $"Verification restores into the console's private scratch cluster, which needs PostgreSQL {targetMajor}'s server programs (or a newer version's), " +
            $"and {present}. Install them (apt-get install postgresql-{targetMajor}), or set Verification__RestoreInto=TargetServer to verify on the target's own server " +
            "(Verification__FallBackToServer=true does so only when the scratch cluster cannot run). Nothing was restored.";
    }
}
