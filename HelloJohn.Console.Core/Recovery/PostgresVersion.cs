using System.Globalization;
using System.Text.RegularExpressions;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>A PostgreSQL server version as <c>SHOW server_version</c> gives it ("15.18", "16.2", "9.6.24", "17beta1").
/// Since 10 the major version is the first number; before, the first two.</summary>
public sealed partial record PostgresVersion(int Major, int Minor, string Text) : IComparable<PostgresVersion>
{
    public static PostgresVersion? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var m = VersionPattern().Match(text.Trim());
        if (!m.Success)
        {
            return null;
        }

        var first = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var second = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
        var third = m.Groups[3].Success ? int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
        // Majors are kept times 100 so both schemes compare: 9.6.24 is major 906, minor 24; 15.18 is major 1500, minor 18.
        return first >= 10 ? new PostgresVersion(first * 100, second, text.Trim()) : new PostgresVersion(first * 100 + second, third, text.Trim());
    }

    public int CompareTo(PostgresVersion? other) =>
        other is null ? 1 : Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    public string MajorText => Major % 100 == 0
        ? (Major / 100).ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Major / 100}.{Major % 100}");

    /// <summary>Whether a dump taken on <paramref name="backup"/> can be restored into a server of version
    /// <paramref name="server"/>, and the sentence that says so. An older major version is refused (pg_dump's output
    /// uses what the source server had); an older minor release of the same major is accepted with a warning.</summary>
    public static CheckOutcome CompareForRestore(string? backupVersion, string? serverVersion)
    {
        var backup = TryParse(backupVersion);
        var server = TryParse(serverVersion);
        if (server is null)
        {
            return CheckOutcome.Fail($"The new server's version ('{serverVersion}') could not be read, so it cannot be compared with the backup's. Nothing was restored.");
        }

        if (backup is null)
        {
            return CheckOutcome.Pass($"The backup does not record its server version; the new server runs PostgreSQL {server.Text}.");
        }

        if (server.Major < backup.Major)
        {
            return CheckOutcome.Fail($"The new server runs PostgreSQL {server.Text}, older than the {backup.Text} the backup was taken on. " +
                $"A dump cannot be restored into an older major version. Nothing was restored. Provision PostgreSQL {backup.MajorText} or newer.");
        }

        if (server.CompareTo(backup) < 0)
        {
            return CheckOutcome.Pass($"The new server runs PostgreSQL {server.Text}, an older minor release than the backup's {backup.Text}; " +
                $"the same major version restores fine, but update to {backup.Text} or newer when you can.");
        }

        return CheckOutcome.Pass($"The new server runs PostgreSQL {server.Text}, at least the backup's {backup.Text}.");
    }

    [GeneratedRegex(@"^(\d+)(?:\.(\d+))?(?:\.(\d+))?")]
    private static partial Regex VersionPattern();
}
