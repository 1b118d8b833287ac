using System.Globalization;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>RPO and RTO as people read them: "2 h 05 min", "48 s".</summary>
public static class RecoveryDurations
{
    public static string Describe(TimeSpan? span)
    {
        if (span is not { } d)
        {
            return "—";
        }

        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        var c = CultureInfo.InvariantCulture;
        return d.TotalDays >= 1 ? string.Create(c, $"{(int)d.TotalDays} d {d.Hours} h")
            : d.TotalHours >= 1 ? string.Create(c, $"{(int)d.TotalHours} h {d.Minutes:00} min")
            : d.TotalMinutes >= 1 ? string.Create(c, $"{(int)d.TotalMinutes} min {d.Seconds:00} s")
            : string.Create(c, $"{d.TotalSeconds:0.#} s");
    }

    public static string Describe(IncidentTimeSource source) => source switch
    {
        IncidentTimeSource.Entered => "incident time as entered",
        IncidentTimeSource.FirstFailedBackup => "incident detected: the first backup that could not reach the database",
        _ => "no incident time known: counted to the start of the recovery",
    };
}
