using System.Globalization;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The steps of "point in time": the provider's own restore to a timestamp (given with an explicit zone), then
/// checks on what it produced.</summary>
internal static class PointInTimeSteps
{
    public const string ChooseTimeKey = "choose-time";
    public const string RestoreToTimeKey = "restore-to-time";
    public const string RecoveredDatabaseKey = "recovered-database";

    /// <summary>Rows stamped a little after the target are normal (clocks, commit delays); more means the wrong point.</summary>
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(1);

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
            ApplyInput = ApplyTimeAsync,
            Check = CheckTimeAsync,
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
            ApplyInput = ApplyConnectionAsync,
            Check = CheckRecoveredAsync,
        },
        DatabaseHostSteps.DeployUrl(),
        DatabaseHostSteps.Restart(),
        DatabaseHostSteps.Health(),
    ];

    private static async Task ApplyTimeAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        var (utc, zone) = ParseTime(inputs.GetValueOrDefault("time"), inputs.GetValueOrDefault("zone"));
        ctx.Run.PointInTimeTarget = utc;
        ctx.Run.PointInTimeZone = zone;
        ctx.Run.RecoveryPointAt = utc;
        await ctx.LogAsync($"Recover to {utc:u} (given in {zone}).");
    }

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

    private static async Task<CheckOutcome> CheckTimeAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var time = ctx.Services.GetRequiredService<TimeProvider>();
        if (ctx.Run.PointInTimeTarget is not { } at)
        {
            return CheckOutcome.Fail("No time chosen yet.");
        }

        if (at > time.GetUtcNow())
        {
            return CheckOutcome.Fail($"{at:u} is in the future; a database can only be recovered to a moment that has passed.");
        }

        if (ctx.Run.IncidentSource == IncidentTimeSource.Entered && ctx.Run.IncidentAt is { } incident && at > incident)
        {
            return CheckOutcome.Fail($"{at:u} is after the incident ({incident:u}): the damage would be recovered too. Choose a time before the incident.");
        }

        await ctx.LogAsync($"Target time accepted: {at:u}.");
        var lost = ctx.Run.IncidentAt is { } i ? $" Data written between it and the incident ({RecoveryDurations.Describe(i - at)}) is lost." : "";
        return CheckOutcome.Pass($"Recover to {at:u} ({ctx.Run.PointInTimeZone} {TimeZoneInfo.ConvertTimeBySystemTimeZoneId(at, ctx.Run.PointInTimeZone!):yyyy-MM-dd HH:mm:ss}).{lost}");
    }

    private static Task ApplyConnectionAsync(RecoveryStepContext ctx, IReadOnlyDictionary<string, string?> inputs, CancellationToken ct)
    {
        var text = inputs.GetValueOrDefault("connection");
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new RecoveryInputException("Enter the recovered database's connection. Nothing was stored.");
        }

        try
        {
            ctx.SetNewConnection(PgConnection.Parse(text));
        }
        catch (FormatException e)
        {
            throw new RecoveryInputException($"The connection could not be read: {e.Message} Nothing was stored.");
        }

        return ctx.LogAsync($"Recovered database: {ctx.Run.NewDatabaseDisplay}.");
    }

    private static async Task<CheckOutcome> CheckRecoveredAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var connection = ctx.NewConnection();
        NewServerFacts facts;
        try
        {
            facts = await NewServerProbe.InspectAsync(connection, ctx.Run.Provider, ct);
        }
        catch (RecoveryInputException e)
        {
            return CheckOutcome.Fail(e.Message);
        }

        ctx.Run.NewServerVersion = facts.ServerVersion;
        if (!facts.DatabaseExists)
        {
            return CheckOutcome.Fail($"{connection.Database} does not exist on {connection.Host}:{connection.Port}. Check the database name of the recovered instance.");
        }

        if (facts.InRecovery)
        {
            return CheckOutcome.Fail($"{connection.Host}:{connection.Port} is still in recovery (read only). Wait until it reaches the target and promotes (recovery_target_action = 'promote'), then check again. If its log says the recovery target was not reached, the WAL archive does not go that far: pick an earlier time.");
        }

        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('public.hj_user') IS NOT NULL", conn))
        {
            if (await exists.ExecuteScalarAsync(ct) is not true)
            {
                return CheckOutcome.Fail($"{connection.Describe()} has no HelloJohn tables (hj_user is missing): this is not a recovered HelloJohn database.");
            }
        }

        var newest = await NewestWriteAsync(conn, ct);
        var target = ctx.Run.PointInTimeTarget!.Value;
        if (newest is { } n && n > target + Tolerance)
        {
            return CheckOutcome.Fail($"The recovered database holds rows written at {n:u}, after the chosen time {target:u}: it was recovered to a later point. Restore again to the chosen time.");
        }

        var seen = newest is { } w ? $" Its newest row was written at {w:u}." : "";
        return CheckOutcome.Pass($"{connection.Describe()} is promoted and holds HelloJohn's tables (PostgreSQL {facts.ServerVersion}).{seen}");
    }

    /// <summary>The newest <c>created_at</c> among HelloJohn's tables that have one, or null.</summary>
    private static async Task<DateTimeOffset?> NewestWriteAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var tables = new List<string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name LIKE 'hj\_%' AND column_name = 'created_at' AND data_type = 'timestamp with time zone'
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        DateTimeOffset? newest = null;
        foreach (var table in tables)
        {
            await using var cmd = new NpgsqlCommand($"SELECT max(created_at) FROM public.{LocalPostgresCluster.QuoteIdent(table)}", conn);
            if (await cmd.ExecuteScalarAsync(ct) is DateTime at)
            {
                var utc = new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc));
                newest = newest is null || utc > newest ? utc : newest;
            }
        }

        return newest;
    }
}
