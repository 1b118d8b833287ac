using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Tests.Recovery;

/// <summary>The pure rules of the wizards: version comparison, time parsing, provider commands.</summary>
[Trait("Capability", "Recovery")]
public sealed class RecoveryRulesTests
{
    [Theory]
    [InlineData("15.18", "14.12")]
    [InlineData("16.2", "15.18")]
    [InlineData("9.6.24", "9.5.25")]
    public void CompareForRestore_ServerOlderMajorThanTheBackup_FailsAndSaysNothingWasRestored(string backup, string server)
    {
        var outcome = PostgresVersion.CompareForRestore(backup, server);

        Assert.False(outcome.Passed);
        Assert.Contains($"runs PostgreSQL {server}, older than the {backup} the backup was taken on", outcome.Message);
        Assert.Contains("Nothing was restored", outcome.Message);
    }

    [Theory]
    [InlineData("15.18", "15.18")]
    [InlineData("15.18", "16.4")]
    [InlineData("9.6.24", "10.23")]
    [InlineData("15.4", "17beta1")]
    public void CompareForRestore_ServerSameOrNewer_Passes(string backup, string server)
    {
        var outcome = PostgresVersion.CompareForRestore(backup, server);

        Assert.True(outcome.Passed, outcome.Message);
        Assert.Contains("at least the backup's", outcome.Message);
    }

    [Fact]
    public void CompareForRestore_OlderMinorOfTheSameMajor_PassesWithAWarning()
    {
        var outcome = PostgresVersion.CompareForRestore("15.18", "15.2");

        Assert.True(outcome.Passed);
        Assert.Contains("older minor release", outcome.Message);
    }

    [Fact]
    public void CompareForRestore_UnreadableServerVersion_Fails_UnknownBackupVersion_Passes()
    {
        Assert.False(PostgresVersion.CompareForRestore("15.18", "garbage").Passed);
        Assert.True(PostgresVersion.CompareForRestore(null, "15.18").Passed);
    }

    [Theory]
    [InlineData("2024-01-20 10:30:00", "UTC", "2024-01-20T10:30:00Z")]
    [InlineData("2024-01-20 11:30", "Europe/Paris", "2024-01-20T10:30:00Z")]
    [InlineData("2024-07-04T08:15:00", "America/New_York", "2024-07-04T12:15:00Z")]
    public void ParseTime_WithAnExplicitZone_ReturnsUtc(string time, string zone, string utc)
    {
        var (parsed, id) = PointInTimeSteps.ParseTime(time, zone);

        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), parsed);
        Assert.Equal(TimeSpan.Zero, parsed.Offset);
        Assert.Equal(zone, id);
    }

    [Theory]
    [InlineData("2024-01-20 10:30:00", "", "Give the time zone")]
    [InlineData("2024-01-20 10:30:00", "Mars/Olympus", "is not a time zone")]
    [InlineData("20/01/2024 10:30", "UTC", "is not a date and time")]
    [InlineData("2024-01-20 10:30:00+02:00", "UTC", "is not a date and time")]
    [InlineData("2024-03-31 02:30:00", "Europe/Paris", "does not exist in Europe/Paris")]
    [InlineData("2024-10-27 02:30:00", "Europe/Paris", "happens twice in Europe/Paris")]
    public void ParseTime_AmbiguousOrBadInput_IsRefused(string time, string zone, string expected)
    {
        var error = Assert.Throws<RecoveryInputException>(() => PointInTimeSteps.ParseTime(time, zone));

        Assert.Contains(expected, error.Message);
        Assert.Contains("Nothing was stored", error.Message);
    }

    [Fact]
    public void Instructions_PerProvider_UseThatProvidersCommands()
    {
        var at = new DateTimeOffset(2024, 1, 20, 10, 30, 0, TimeSpan.Zero);
        static string All(IReadOnlyList<InstructionBlock> blocks) => string.Join('\n', blocks.Select(b => b.Text + "\n" + b.Command));

        Assert.Contains("docker compose exec postgres createdb -U hellojohn hellojohn", All(ProviderInstructions.ProvisionDatabase(TargetProvider.DockerCompose)));
        Assert.Contains("docker compose exec -T postgres pg_restore", All(ProviderInstructions.RestoreByHand(TargetProvider.DockerCompose, "hellojohn_20240120_103000.dump")));
        Assert.Contains("zstd -d --keep hellojohn_20240120_103000.dump.zst\npg_restore --no-owner --exit-on-error --verbose --dbname=\"$NEW_DATABASE_URL\" hellojohn_20240120_103000.dump",
            All(ProviderInstructions.RestoreByHand(TargetProvider.SelfManaged, "hellojohn_20240120_103000.dump.zst")));
        Assert.Contains("docker compose up -d --force-recreate hellojohn", All(ProviderInstructions.RestartInstances(TargetProvider.DockerCompose)));
        Assert.Contains("aws rds restore-db-instance-to-point-in-time", All(ProviderInstructions.PointInTimeRestore(TargetProvider.AmazonRds, at, "UTC")));
        Assert.Contains("--restore-time 2024-01-20T10:30:00Z", All(ProviderInstructions.PointInTimeRestore(TargetProvider.AmazonRds, at, "UTC")));
        Assert.Contains("neon branches restore main ^self@2024-01-20T10:30:00Z", All(ProviderInstructions.PointInTimeRestore(TargetProvider.Neon, at, "UTC")));
        Assert.Contains("Dashboard → Database → Backups → Point in time", All(ProviderInstructions.PointInTimeRestore(TargetProvider.Supabase, at, "UTC")));
        Assert.Contains("recovery_target_time = '2024-01-20 10:30:00 UTC'", All(ProviderInstructions.PointInTimeRestore(TargetProvider.SelfManaged, at, "UTC")));
        Assert.Contains("recovery_target_time = '2024-01-20 10:30:00 UTC'", All(ProviderInstructions.PointInTimeRestore(TargetProvider.DockerCompose, at, "UTC")));
        Assert.Contains("sudo systemctl restart hellojohn", All(ProviderInstructions.RestartInstances(TargetProvider.SelfManaged)));
        Assert.Contains("aws ecs update-service", All(ProviderInstructions.RestartInstances(TargetProvider.AmazonRds)));
    }

    [Fact]
    public void Steps_OfEveryScenarioAndProvider_HaveUniqueKeysAndAManualReasonWhereThereIsNoCheck()
    {
        foreach (var scenario in Enum.GetValues<RecoveryScenario>())
        {
            var steps = RecoveryScenarios.StepsOf(scenario);
            Assert.Equal(steps.Count, steps.Select(s => s.Key).Distinct().Count());
            Assert.All(steps.Where(s => s.IsManual), s => Assert.False(string.IsNullOrWhiteSpace(s.ManualReason), s.Key));
            Assert.All(steps.Where(s => s.Action is not null), s => Assert.NotNull(s.Check));
            Assert.True(steps[^1].Check is not null || steps[^1].IsManual);
        }

        Assert.All(RecoveryScenarios.StepsOf(RecoveryScenario.Drill), s => Assert.False(s.IsManual, s.Key));
    }

    [Theory]
    [InlineData("{\"status\":\"Healthy\"}", "healthy")]
    [InlineData("{\"status\":\"Unhealthy\",\"checks\":{}}", "unhealthy")]
    [InlineData("OK", null)]
    [InlineData("[1,2]", null)]
    public void HealthStatus_ReadsTheStatusMemberOfJsonOnly(string body, string? expected) =>
        Assert.Equal(expected, HealthProbe.StatusOf(body));

    [Fact]
    public void Masked_NewDatabaseUrl_HidesThePassword()
    {
        var connection = HelloJohn.Console.Core.Postgres.PgConnection.Parse("postgres://hellojohn:s3cr%40t@db.example.com:5433/hellojohn?sslmode=require");

        var masked = RecoveryConnectionVault.Masked(connection);

        Assert.Equal("postgres://hellojohn:••••••••@db.example.com:5433/hellojohn?sslmode=require", masked);
    }
}
