using System.Globalization;
using HelloJohn.Console.Core.Recovery.Steps;
using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The steps of "point in time": the provider's own restore to a timestamp (given with an explicit zone), then
/// checks on what it produced.</summary>
internal static class PointInTimeSteps
{
    public const string ChooseTimeKey = "choose-time";
    public const string RestoreToTimeKey = "restore-to-time";
    public const string RecoveredDatabaseKey = "recovered-database";

    public static IReadOnlyList<RecoveryStepDefinition> All() =>
    [
        new()
        {
            Key = ChooseTimeKey,
            Title = "Choose the moment to recover to",
            Instructions = _ =>
            [
                new("Pick the last moment before the damage (a bad migration, a mass delete). Give the time zone explicitly: the console converts to UTC and writes UTC in every command."),
            ],
            Inputs =
            [
                new("time", "Recover to (date and time)", InputKind.DateTime, true, "For example 2024-01-20 10:30:00"),
                new("zone", "Time zone of that time", InputKind.TimeZone, true, "An IANA zone such as UTC, Europe/Paris or America/New_York"),
            ],
            TakesInput = true,
            Check = new(),
            Handler = typeof(ChooseTimeStep),
        },
        new()
        {
            Key = RestoreToTimeKey,
            Title = "Restore to that time with your provider",
            Instructions = c => c.Provider is TargetProvider.SelfManaged or TargetProvider.DockerCompose && c.Run.PointInTimeTarget is { } at
                ? [new($"When the console streams this server's WAL, it restores it itself: open Point-in-time (/pitr/{c.Target.Id}), give {at:yyyy-MM-dd HH:mm:ss} in UTC, choose Disaster recovery and a new directory; a time outside its window is refused with the window shown. Otherwise, by hand:"),
                    .. ProviderInstructions.PointInTimeRestore(c.Provider, c.Run.PointInTimeTarget, c.Run.PointInTimeZone)]
                : ProviderInstructions.PointInTimeRestore(c.Provider, c.Run.PointInTimeTarget, c.Run.PointInTimeZone),
            ManualReason = "The restore runs in your provider's console or on your server; the next step checks what it produced.",
        },
        new()
        {
            Key = RecoveredDatabaseKey,
            Title = "Check the recovered database",
            Instructions = _ =>
            [
                new("Enter the connection of the recovered database (a new endpoint for RDS and self-managed; the same one for Neon and Supabase). " +
                    "The console checks that it is promoted (not still recovering), that HelloJohn's tables are there, and that it holds nothing written after the chosen time."),
            ],
            Inputs = [new("connection", "Recovered database connection", InputKind.Secret, true, "postgres://user:password@host:5432/hellojohn")],
            TakesInput = true,
            Check = new(),
            Handler = typeof(RecoveredDatabaseStep),
        },
        DatabaseHostSteps.DeployUrl(),
        DatabaseHostSteps.Restart(),
        DatabaseHostSteps.Health(),
    ];

    /// <summary>Reads a wall-clock time in an explicit zone and returns it in UTC. Times that do not exist or occur twice
    /// in that zone (daylight saving changes) are refused rather than guessed.</summary>
    public static (DateTimeOffset Utc, string Zone) ParseTime(string? timeText, string? zoneText)
    {
        if (string.IsNullOrWhiteSpace(zoneText))
        {
            throw new RecoveryInputException("Give the time zone of the time (UTC, Europe/Paris, …): a time without a zone is read differently by every server. Nothing was stored.");
        }

        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(zoneText.Trim());
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new RecoveryInputException($"'{zoneText}' is not a time zone this server knows. Use an IANA name such as UTC, Europe/Paris or America/New_York. Nothing was stored.");
        }

        string[] formats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm"];
        if (string.IsNullOrWhiteSpace(timeText) ||
            !DateTime.TryParseExact(timeText.Trim(), formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            throw new RecoveryInputException($"'{timeText}' is not a date and time like 2024-01-20 10:30:00 (without a zone: the zone goes in its own field). Nothing was stored.");
        }

        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            throw new RecoveryInputException($"{local:yyyy-MM-dd HH:mm:ss} does not exist in {zone.Id}: the clocks jumped over it (daylight saving). Give a time outside the gap, or give it in UTC. Nothing was stored.");
        }

        if (zone.IsAmbiguousTime(local))
        {
            throw new RecoveryInputException($"{local:yyyy-MM-dd HH:mm:ss} happens twice in {zone.Id} (clocks went back). Give the time in UTC so it is exact. Nothing was stored.");
        }

        return (new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero), zone.Id);
    }
}
