using System.Globalization;
using System.Text;

namespace HelloJohn.Console.Core.Sets;

/// <summary>Names of a set's files. Every file of one set carries the set's time, so they sort together in a bucket:
/// <c>hellojohn_set_20261125_020000.set.json</c> (the set manifest), <c>hellojohn_set_20261125_020000.roles.sql</c>
/// (the server's roles) and one dump per database, <c>{database}_20261125_020000.dump.zst</c>: the control-plane
/// database <c>hellojohn</c> keeps the name HelloJohn's documented cron job gives its dump.</summary>
public static class SetNaming
{
    public const string ManifestSuffix = ".set.json";
    public const string RolesSuffix = ".roles.sql";

    public static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);

    /// <param name="attempt">1 for the first name; later attempts (a name taken in the same second) add a suffix.</param>
    public static string SetName(DateTimeOffset at, int attempt = 1) =>
        attempt == 1 ? $"hellojohn_set_{Stamp(at)}" : $"hellojohn_set_{Stamp(at)}_{attempt.ToString(CultureInfo.InvariantCulture)}";

    public static string ManifestKey(string setName) => setName + ManifestSuffix;

    public static string RolesKey(string setName) => setName + RolesSuffix;

    /// <summary>The dump of <paramref name="database"/> in a set taken at <paramref name="at"/>. A database name may hold
    /// any character; the file name keeps letters, digits, <c>-</c>, <c>_</c> and <c>.</c> and replaces the rest, and the
    /// manifest beside it keeps the exact name.</summary>
    public static string MemberFileName(string database, DateTimeOffset at, string extension, int attempt = 1)
    {
        var safe = new StringBuilder(database.Length);
        foreach (var c in database)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        }

        var name = safe.ToString().Trim('.');
        if (name.Length == 0)
        {
            name = "database";
        }

        var suffix = attempt == 1 ? "" : "_" + attempt.ToString(CultureInfo.InvariantCulture);
        return $"{name}_{Stamp(at)}{suffix}{extension}";
    }
}
