namespace HelloJohn.Console.Core.Hosting;

/// <summary>Where the console keeps what is its own on this machine.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>HELLOJOHN_CONSOLE_DATA or Console__DataDirectory: the embedded PostgreSQL cluster and local backups
    /// live here unless configured elsewhere. Defaults to <c>.data</c> in the repository (or ~/.local/share/hellojohn-console).</summary>
    public string DataDirectory { get; set; } = "";

    public static string DefaultDataDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("HELLOJOHN_CONSOLE_DATA");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HelloJohn.Console.sln")))
            {
                return Path.Combine(dir.FullName, ".data");
            }
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "hellojohn-console");
    }
}
