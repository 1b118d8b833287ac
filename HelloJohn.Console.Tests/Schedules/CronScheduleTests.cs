using HelloJohn.Console.Core.Schedules;

namespace HelloJohn.Console.Tests.Schedules;

[Trait("Capability", "Schedules")]
public class CronScheduleTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("0 2 * *", "has 4 fields")]
    [InlineData("0 0 2 * * *", "has 6 fields")]
    [InlineData("61 2 * * *", "is not a valid cron expression")]
    [InlineData("0 25 * * *", "is not a valid cron expression")]
    [InlineData("every day", "has 2 fields")]
    [InlineData("0 2 30 2 *", "never fires")]
    [InlineData("@sometimes", "is not a valid cron expression")]
    public void TryParse_InvalidExpression_ExplainsWhatIsWrong(string expression, string expected)
    {
        Assert.False(CronSchedule.TryParse(expression, out var cron, out var error));

        Assert.Null(cron);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("0 2 * * *")]
    [InlineData("*/15 * * * *")]
    [InlineData("0 4 * * SUN")]
    [InlineData("@daily")]
    public void TryParse_ValidExpression_Succeeds(string expression)
    {
        Assert.True(CronSchedule.TryParse(expression, out var cron, out var error));

        Assert.NotNull(cron);
        Assert.Null(error);
    }

    [Fact]
    public void Next_DailyAt0230AcrossSpringForwardInBerlin_FiresAtTheChangeOnTheSkippedDay()
    {
        CronSchedule.TryParse("30 2 * * *", out var cron, out _);
        var from = new DateTimeOffset(2025, 3, 28, 12, 0, 0, TimeSpan.FromHours(1));

        var next = CronSchedule.Next(cron!, from, Berlin);

        // 30 Mar 2025 02:30 does not exist in Berlin (02:00 → 03:00): the run happens at 03:00 CEST instead.
        Assert.Equal(
            [
                new DateTimeOffset(2025, 3, 29, 2, 30, 0, TimeSpan.FromHours(1)),
                new DateTimeOffset(2025, 3, 30, 3, 0, 0, TimeSpan.FromHours(2)),
                new DateTimeOffset(2025, 3, 31, 2, 30, 0, TimeSpan.FromHours(2)),
                new DateTimeOffset(2025, 4, 1, 2, 30, 0, TimeSpan.FromHours(2)),
                new DateTimeOffset(2025, 4, 2, 2, 30, 0, TimeSpan.FromHours(2)),
            ],
            next.Select(o => o.Local));
        Assert.Equal(new DateTimeOffset(2025, 3, 30, 1, 0, 0, TimeSpan.Zero), next[1].Utc);
        Assert.Equal(TimeSpan.Zero, next[1].Utc.Offset);
    }

    [Fact]
    public void Next_DailyAt0130AcrossFallBackInNewYork_FiresOnce()
    {
        CronSchedule.TryParse("30 1 * * *", out var cron, out _);
        var from = new DateTimeOffset(2025, 11, 1, 12, 0, 0, TimeSpan.FromHours(-4));

        var next = CronSchedule.Next(cron!, from, NewYork, count: 3);

        // 2 Nov 2025 01:30 happens twice in New York; the job runs once, at the first (EDT).
        Assert.Equal(
            [
                new DateTimeOffset(2025, 11, 2, 5, 30, 0, TimeSpan.Zero),
                new DateTimeOffset(2025, 11, 3, 6, 30, 0, TimeSpan.Zero),
                new DateTimeOffset(2025, 11, 4, 6, 30, 0, TimeSpan.Zero),
            ],
            next.Select(o => o.Utc));
    }

    [Fact]
    public void Next_DefaultBackupCronInUtc_IsTwoAmEveryDay()
    {
        CronSchedule.TryParse(new ScheduleOptions().BackupCron, out var cron, out _);

        var next = CronSchedule.Next(cron!, new DateTimeOffset(2025, 12, 31, 3, 0, 0, TimeSpan.Zero), TimeZoneInfo.Utc);

        Assert.Equal(5, next.Count);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 2, 0, 0, TimeSpan.Zero), next[0].Utc);
        Assert.All(next, o => Assert.Equal(2, o.Utc.Hour));
    }

    [Fact]
    public void ScheduleOptionsValidator_BadZoneAndCron_NamesTheSettings()
    {
        var result = new ScheduleOptionsValidator().Validate(null, new ScheduleOptions { TimeZone = "Mars/Olympus", BackupCron = "0 2 * *" });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Schedules__TimeZone", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Schedules__BackupCron", StringComparison.Ordinal));
    }

    [Fact]
    public void ScheduleOptionsValidator_Defaults_AreValid()
    {
        Assert.True(new ScheduleOptionsValidator().Validate(null, new ScheduleOptions()).Succeeded);
    }

    [Theory]
    [InlineData(ScheduleKind.Backup, "backup:")]
    [InlineData(ScheduleKind.Verification, "verify:")]
    [InlineData(ScheduleKind.Retention, "retention:")]
    [InlineData(ScheduleKind.JwksCheck, "jwks-check:")]
    [InlineData(ScheduleKind.Drill, "drill:")]
    public void JobId_IsStablePerKindAndTarget(ScheduleKind kind, string prefix)
    {
        var target = Guid.Parse("7b0e8f1e-4b43-4a52-9a55-6f1f4a1d2c3b");

        Assert.Equal(prefix + "7b0e8f1e-4b43-4a52-9a55-6f1f4a1d2c3b", ScheduleService.JobId(kind, target));
    }
}
