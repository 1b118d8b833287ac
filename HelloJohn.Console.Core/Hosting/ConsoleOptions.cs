using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>Where the console keeps what is its own on this machine.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>HELLOJOHN_CONSOLE_DATA or Console__DataDirectory: the embedded PostgreSQL cluster and local backups
    /// live here unless configured elsewhere. Defaults to <c>.data</c> in the repository (or ~/.local/share/hellojohn-console).</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>Console__JobWorkers: how many jobs this instance runs at once. 0 makes an instance that serves pages and
    /// sweeps but leaves every job to the other instances sharing its database. Defaults to twice the processor
    /// cores, at least 4.</summary>
    public int? JobWorkers { get; set; }

    public static int DefaultJobWorkers => Math.Max(4, Environment.ProcessorCount * 2);

    public int EffectiveJobWorkers => JobWorkers ?? DefaultJobWorkers;

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

/// <summary>Checks the console's own settings at start; each error names the variable to fix.</summary>
internal sealed class ConsoleOptionsValidation : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add("Console__DataDirectory (or HELLOJOHN_CONSOLE_DATA) is empty: give the folder the console keeps its own files in.");
        }
        else if (File.Exists(options.DataDirectory))
        {
            errors.Add($"Console__DataDirectory (or HELLOJOHN_CONSOLE_DATA) names a file, not a folder: {options.DataDirectory}.");
        }

        if (options.JobWorkers is < 0 or > 64)
        {
            errors.Add($"Console__JobWorkers must be from 0 (this instance runs no jobs) to 64, not {options.JobWorkers}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
