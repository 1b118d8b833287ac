using HelloJohn.Console.Core.Schedules;

namespace HelloJohn.Console.Tests.Schedules;

[Trait("Capability", "Schedules")]
public class BackupFrequencyTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Warning_EveryMinuteAndTheLastBackupTookThreeMinutes_GivesTheNumbers()
    {
        var warning = BackupFrequency.Warning("* * * * *", "Etc/UTC", TimeSpan.FromMinutes(3), Now);

        Assert.Equal("This schedule starts a backup as often as every 1 minute, but the last backup of this target took 3 minutes: runs would overlap, and the later one waits or is skipped. Choose runs at least 3 minutes apart, e.g. '0 * * * *' for hourly.", warning);
    }

    [Fact]
    public void Warning_NoBackupYet_UsesTheSensibleMinimum()
    {
        Assert.Contains("no backup of this target has finished yet".Replace("no", "No", StringComparison.Ordinal), BackupFrequency.Warning("*/5 * * * *", "Etc/UTC", null, Now));
        Assert.Contains("less than 15 minutes apart", BackupFrequency.Warning("*/5 * * * *", "Etc/UTC", null, Now));
        Assert.Null(BackupFrequency.Warning("*/15 * * * *", "Etc/UTC", null, Now));
    }

    [Fact]
    public void Warning_EveryFiveMinutesAndQuickBackups_SaysTheyDoNotOverlapButFillStorage()
    {
        var warning = BackupFrequency.Warning("*/5 * * * *", "Etc/UTC", TimeSpan.FromSeconds(4), Now);

        Assert.Equal("This schedule starts a backup as often as every 5 minutes. The last backup took 4 seconds, so runs do not overlap, but each is a full dump: up to 288 a day fill storage with near-identical files. For a recovery point finer than 15 minutes, stream WAL (point-in-time recovery) instead.", warning);
    }

    [Theory]
    [InlineData("0 2 * * *", 3600)]
    [InlineData("*/20 * * * *", 1199)]
    [InlineData("not a cron", 60)]
    public void Warning_RunsFartherApartThanABackupTakesAndTheMinimumOrInvalid_IsNone(string cron, int lastSeconds)
    {
        Assert.Null(BackupFrequency.Warning(cron, "Etc/UTC", TimeSpan.FromSeconds(lastSeconds), Now));
    }

    [Fact]
    public void Warning_TwoRunsCloseTogetherOnceADay_IsFoundAmongTheOthers()
    {
        Assert.Contains("every 5 minutes", BackupFrequency.Warning("0,5 2 * * *", "Europe/Berlin", TimeSpan.FromMinutes(10), Now));
    }
}
