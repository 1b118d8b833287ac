using System.Globalization;

namespace HelloJohn.Console.Bench.Sets;

/// <summary>The command line of <c>bench sets</c>.</summary>
public sealed record SetsBenchCommand
{
    public const string Usage = """
        Usage:
          bench sets [--tenants 50,100,200] [--tenant-users N] [--control-users N] [--reps K] [--ui-days D] [--ui-reps K] [--work DIR] [--output FILE]
              Starts a private PostgreSQL cluster with a control-plane database of --control-users users (default
              1,000,000) and tenant databases of --tenant-users users each (default 2,000), and for each tenant count
              (default 50, 100 and 200, added as the run goes, as new tenants appear) backs the deployment up as one set
              and with the documented recipe (pg_dump -Fc -Z9, one database after another), K times each (default 1).
              Then it fills the catalog with --ui-days days (default 30) of sets of the largest deployment and times the
              Dashboard and Backups pages' server work. Prints one table with the load averages.
        """;

    public IReadOnlyList<int> Tenants { get; init; } = [50, 100, 200];
    public int TenantUsers { get; init; } = 2000;
    public int ControlUsers { get; init; } = 1_000_000;
    public int Reps { get; init; } = 1;
    public int UiDays { get; init; } = 30;
    public int UiReps { get; init; } = 20;
    public string? WorkDirectory { get; init; }
    public string? OutputFile { get; init; }

    public static SetsBenchCommand Parse(IReadOnlyList<string> args)
    {
        var command = new SetsBenchCommand();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new BenchUsageException($"{name} needs a value.");
            command = name switch
            {
                "--tenants" => command with { Tenants = [.. Value().Split(',').Select(v => Positive(name, v, 10_000)).Order()] },
                "--tenant-users" => command with { TenantUsers = Positive(name, Value(), 10_000_000) },
                "--control-users" => command with { ControlUsers = Positive(name, Value(), 100_000_000) },
                "--reps" => command with { Reps = Positive(name, Value(), 100) },
                "--ui-days" => command with { UiDays = Positive(name, Value(), 3650) },
                "--ui-reps" => command with { UiReps = Positive(name, Value(), 10_000) },
                "--work" => command with { WorkDirectory = Path.GetFullPath(Value()) },
                "--output" => command with { OutputFile = Path.GetFullPath(Value()) },
                _ => throw new BenchUsageException($"'{name}' is not an option of 'sets'."),
            };
        }

        return command;
    }

    private static int Positive(string name, string value, int max) =>
        int.TryParse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max
            ? n
            : throw new BenchUsageException(string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number from 1 to {max:N0}, not '{value}'."));
}
