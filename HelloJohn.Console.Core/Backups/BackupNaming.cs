using System.Globalization;
using System.Text.RegularExpressions;

namespace HelloJohn.Console.Core.Backups;

/// <summary>File names as HelloJohn's own documented cron job writes them: <c>hellojohn_YYYYMMDD_HHMMSS.dump</c> (UTC).</summary>
public static partial class BackupNaming
{
    /// <param name="extension">.dump for pg_dump's own compression, .dump.zst for a zstd-compressed archive.</param>
    public static string FileNameFor(DateTimeOffset at, string? suffix = null, string extension = ".dump")
    {
        var stamp = at.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        return suffix is null ? $"hellojohn_{stamp}{extension}" : $"hellojohn_{stamp}_{suffix}{extension}";
    }

    /// <summary>The time a name encodes, or null for a name of another shape.</summary>
    public static DateTimeOffset? TryParseTime(string fileName)
    {
        var m = NamePattern().Match(Path.GetFileName(fileName));
        if (!m.Success)
        {
            return null;
        }

        var format = m.Groups["time"].Success ? "yyyyMMddHHmmss" : "yyyyMMdd";
        return DateTime.TryParseExact(m.Groups["date"].Value + m.Groups["time"].Value, format, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
            ? new DateTimeOffset(t, TimeSpan.Zero)
            : null;
    }

    [GeneratedRegex(@"^hellojohn_(?<date>\d{8})(?:_(?<time>\d{6}))?(?:_[a-z0-9]+)?\.dump(?:\.zst)?$")]
    private static partial Regex NamePattern();
}
