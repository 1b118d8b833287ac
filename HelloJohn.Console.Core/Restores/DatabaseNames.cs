using System.Globalization;
using System.Text.RegularExpressions;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Which database names a restore may create or replace. The same rules serve the dialog and the service,
/// so the browser never offers what the service would refuse.</summary>
public static partial class DatabaseNames
{
    public const string VerificationPrefix = "hellojohn_verify_";

    private static readonly HashSet<string> SystemDatabases = new(StringComparer.Ordinal) { "postgres", "template0", "template1" };

    /// <summary>Why <paramref name="name"/> cannot be a restore target, or null when it can.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "Give the name of the database to restore into.";
        }

        if (!IdentifierPattern().IsMatch(name))
        {
            return $"'{name}' is not a usable database name: use 1 to 63 lower-case letters, digits and underscores, starting with a letter or underscore (for example hellojohn_restore).";
        }

        if (SystemDatabases.Contains(name))
        {
            return $"'{name}' is a PostgreSQL system database; restoring into it is never allowed.";
        }

        if (name.StartsWith(VerificationPrefix, StringComparison.Ordinal))
        {
            return $"Names starting with {VerificationPrefix} are reserved for verification runs, which drop them afterwards. Choose another name.";
        }

        return null;
    }

    /// <summary>The throw-away database of a verification, named as HelloJohn's own weekly script names it.</summary>
    public static string ForVerification(DateTimeOffset at, int attempt = 1)
    {
        var seconds = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return attempt <= 1 ? VerificationPrefix + seconds : $"{VerificationPrefix}{seconds}_{attempt.ToString(CultureInfo.InvariantCulture)}";
    }

    public static bool IsVerificationDatabase(string name) => VerificationPattern().IsMatch(name);

    /// <summary>When a verification database was made, from the unix time in its name; null for other names.</summary>
    public static DateTimeOffset? CreatedAt(string name)
    {
        var m = VerificationPattern().Match(name);
        return m.Success && long.TryParse(m.Groups["seconds"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s < 253402300799
            ? DateTimeOffset.FromUnixTimeSeconds(s)
            : null;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^hellojohn_verify_(?<seconds>\d{1,18})(_\d+)?$")]
    private static partial Regex VerificationPattern();
}
