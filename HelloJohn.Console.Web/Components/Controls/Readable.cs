using System.Globalization;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Sizes, durations and ages as people read them: "2.1 MB", "12.5 s", "7 s ago", never "0 b" or
/// "6 seconds, 866 milliseconds". Sizes count in 1024s, as pg_dump, df and the stores' consoles do.</summary>
public static class Readable
{
    private static readonly string[] SizeUnits = ["B", "KB", "MB", "GB", "TB", "PB"];
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>"0 B", "512 B", "1.5 KB", "2.1 MB", "153 MB", "1.2 GB".</summary>
    public static string Size(long bytes)
    {
        if (bytes < 1024)
        {
            return string.Create(C, $"{Math.Max(bytes, 0)} B");
        }

        var (value, unit) = Scale(bytes);
        return string.Create(C, $"{value.ToString(value < 100 ? "0.#" : "0", C)} {unit}");
    }

    /// <summary>The unit a chart of sizes up to <paramref name="maxBytes"/> reads best in, with its size in bytes.</summary>
    public static (string Unit, double Bytes) SizeUnitFor(double maxBytes)
    {
        var power = 0;
        while (maxBytes >= 1024 && power < SizeUnits.Length - 1)
        {
            maxBytes /= 1024;
            power++;
        }

        return (SizeUnits[power], Math.Pow(1024, power));
    }

    /// <summary>A measured duration: "0.4 s", "12.5 s", "3 min 05 s", "2 h 05 min", "3 d 4 h".</summary>
    public static string Duration(TimeSpan d)
    {
        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        return d.TotalSeconds < 60 ? string.Create(C, $"{d.TotalSeconds:0.0} s") : Coarse(d);
    }

    /// <summary>How long ago, to the second: "7 s", "3 min 05 s", "2 h 05 min", "3 d 4 h" (the RPO now).</summary>
    public static string Age(TimeSpan d)
    {
        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        return d.TotalSeconds < 60 ? string.Create(C, $"{(int)d.TotalSeconds} s") : Coarse(d);
    }

    private static string Coarse(TimeSpan d) =>
        d.TotalMinutes < 60 ? string.Create(C, $"{(int)d.TotalMinutes} min {d.Seconds:00} s")
        : d.TotalHours < 24 ? string.Create(C, $"{(int)d.TotalHours} h {d.Minutes:00} min")
        : string.Create(C, $"{(int)d.TotalDays} d {d.Hours} h");

    private static (double Value, string Unit) Scale(long bytes)
    {
        var (unit, size) = SizeUnitFor(bytes);
        return (bytes / size, unit);
    }
}
