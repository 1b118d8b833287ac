using System.Globalization;

namespace HelloJohn.Console.Bench;

public enum BenchVerb
{
    Generate,
    Run,
}

/// <summary>The bench's command line: <c>generate --users N [--dsn …]</c> or <c>run [--users N] [--reps K] …</c>.</summary>
public sealed record BenchCommand(BenchVerb Verb, BenchmarkSettings Settings, string? Dsn, string? OutputFile)
{
    public const string Usage = """
        Usage:
          bench generate --users N [--dsn CONNECTION]
              Fills an empty HelloJohn database with N deterministic users (≈3 sessions each, organizations, members,
              MFA factors) through binary COPY. CONNECTION is a postgres:// URL or keyword form; defaults to
              HELLOJOHN_DATABASE_URL.
          bench run [--users N] [--reps K] [--verification-reps K] [--catalog-backups N] [--ui-reps K] [--no-end-to-end] [--work DIR] [--output FILE]
              Starts a private PostgreSQL cluster, generates the reference database (default 1,000,000 users) and one
              a quarter of its size, runs every case side by side K times (default 3; verification, restore, drill
              and end-to-end cases --verification-reps times), prints one table and removes everything it created.
              --no-end-to-end leaves out the Release console driven through its pages. --output also writes the
              table to FILE.
        """;

    /// <summary>Parses <paramref name="args"/>; throws <see cref="BenchUsageException"/> naming the bad argument.</summary>
    public static BenchCommand Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new BenchUsageException("Give a command: generate or run.");
        }

        var verb = args[0] switch
        {
            "generate" => BenchVerb.Generate,
            "run" => BenchVerb.Run,
            _ => throw new BenchUsageException($"Unknown command '{args[0]}'. Use generate or run."),
        };

        var settings = new BenchmarkSettings();
        string? dsn = null;
        string? output = null;
        var usersGiven = false;
        for (var i = 1; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new BenchUsageException($"{name} needs a value.");
            switch (name)
            {
                case "--users":
                    settings = settings with { Users = Positive(name, Value(), 100_000_000) };
                    usersGiven = true;
                    break;
                case "--reps" when verb == BenchVerb.Run:
                    settings = settings with { Reps = Positive(name, Value(), 100) };
                    break;
                case "--verification-reps" when verb == BenchVerb.Run:
                    settings = settings with { VerificationReps = Positive(name, Value(), 100) };
                    break;
                case "--catalog-backups" when verb == BenchVerb.Run:
                    settings = settings with { CatalogBackups = Positive(name, Value(), 10_000_000) };
                    break;
                case "--ui-reps" when verb == BenchVerb.Run:
                    settings = settings with { UiReps = Positive(name, Value(), 10_000) };
                    break;
                case "--no-end-to-end" when verb == BenchVerb.Run:
                    settings = settings with { EndToEnd = false };
                    break;
                case "--work" when verb == BenchVerb.Run:
                    settings = settings with { WorkDirectory = Path.GetFullPath(Value()) };
                    break;
                case "--output" when verb == BenchVerb.Run:
                    output = Path.GetFullPath(Value());
                    break;
                case "--dsn" when verb == BenchVerb.Generate:
                    dsn = Value();
                    break;
                default:
                    throw new BenchUsageException($"'{name}' is not an option of '{args[0]}'.");
            }
        }

        if (verb == BenchVerb.Generate && !usersGiven)
        {
            throw new BenchUsageException("generate needs --users N.");
        }

        return new BenchCommand(verb, settings, dsn, output);
    }

    private static int Positive(string name, string value, int max) =>
        int.TryParse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max
            ? n
            : throw new BenchUsageException(string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number from 1 to {max:N0}, not '{value}'."));
}

public sealed class BenchUsageException(string message) : Exception(message);
