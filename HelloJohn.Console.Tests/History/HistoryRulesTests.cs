using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.History;

namespace HelloJohn.Console.Tests.History;

[Trait("Capability", "Backups")]
public sealed class HistoryRulesTests
{
    private static readonly DateTimeOffset Monday = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);

    private static BackupRunPoint Run(HistoryOutcome outcome, DateTimeOffset? at = null, double? seconds = 10) =>
        new(at ?? Monday.AddHours(2), "hellojohn_20261123_020000.dump.zst", outcome, 1000, seconds, null, null);

    [Theory]
    [InlineData(BackupStatus.Succeeded, HistoryOutcome.Succeeded)]
    [InlineData(BackupStatus.Expired, HistoryOutcome.SucceededThenExpired)]
    [InlineData(BackupStatus.PartiallyStored, HistoryOutcome.PartiallyStored)]
    [InlineData(BackupStatus.Failed, HistoryOutcome.Failed)]
    [InlineData(BackupStatus.Cancelled, HistoryOutcome.Cancelled)]
    public void OutcomeOf_FinishedStatus_IsCountedAsItEnded(BackupStatus status, HistoryOutcome expected) =>
        Assert.Equal(expected, HistoryRules.OutcomeOf(status));

    [Theory]
    [InlineData(BackupStatus.Queued)]
    [InlineData(BackupStatus.Running)]
    public void OutcomeOf_UnfinishedStatus_IsNotCounted(BackupStatus status) => Assert.Null(HistoryRules.OutcomeOf(status));

    [Fact]
    public void Count_ExpiredBackups_AreSuccessesNeverFailures()
    {
        var counts = HistoryRules.Count(
        [
            Run(HistoryOutcome.Succeeded), Run(HistoryOutcome.Succeeded),
            Run(HistoryOutcome.SucceededThenExpired), Run(HistoryOutcome.SucceededThenExpired),
        ]);

        Assert.Equal(new BackupCounts(Succeeded: 4, ExpiredSince: 2, PartiallyStored: 0, Failed: 0, Cancelled: 0), counts);
        Assert.Equal(1.0, counts.SuccessRate);
    }

    [Fact]
    public void Count_MixedOutcomes_RateIsSucceededOverAttemptedWithoutCancelled()
    {
        var counts = HistoryRules.Count(
        [
            Run(HistoryOutcome.Succeeded), Run(HistoryOutcome.SucceededThenExpired), Run(HistoryOutcome.Succeeded),
            Run(HistoryOutcome.Failed), Run(HistoryOutcome.PartiallyStored), Run(HistoryOutcome.Cancelled),
        ]);

        Assert.Equal((3, 1, 1, 1, 1), (counts.Succeeded, counts.ExpiredSince, counts.Failed, counts.PartiallyStored, counts.Cancelled));
        Assert.Equal(5, counts.Attempted);
        Assert.Equal(0.6, counts.SuccessRate!.Value, 6);
    }

    [Fact]
    public void Count_OnlyCancelled_HasNoRate()
    {
        var counts = HistoryRules.Count([Run(HistoryOutcome.Cancelled)]);

        Assert.Equal(0, counts.Attempted);
        Assert.Null(counts.SuccessRate);
    }

    [Theory]
    [InlineData("2026-11-23T00:00:00Z", "2026-11-23")] // Monday midnight is its own week
    [InlineData("2026-11-29T23:59:59Z", "2026-11-23")] // Sunday night still belongs to it
    [InlineData("2026-11-30T00:00:00Z", "2026-11-30")]
    [InlineData("2026-11-29T23:30:00-02:00", "2026-11-30")] // counted in UTC, where it is already Monday
    public void WeekStart_AnyTime_IsMondayMidnightUtc(string at, string monday) =>
        Assert.Equal(DateTimeOffset.Parse(monday + "T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            HistoryRules.WeekStart(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Weekly_ThreeWeeksWithASilentOne_ListsEveryWeekWithItsOwnCounts()
    {
        var weeks = HistoryRules.Weekly(
        [
            Run(HistoryOutcome.Succeeded, Monday.AddDays(1)),
            Run(HistoryOutcome.Failed, Monday.AddDays(2)),
            Run(HistoryOutcome.SucceededThenExpired, Monday.AddDays(15)),
        ], Monday.AddDays(3), Monday.AddDays(16));

        Assert.Equal([Monday, Monday.AddDays(7), Monday.AddDays(14)], weeks.Select(w => w.WeekStart));
        Assert.Equal((1, 1), (weeks[0].Counts.Succeeded, weeks[0].Counts.Failed));
        Assert.Equal(0, weeks[1].Counts.Attempted);
        Assert.Equal((1, 1, 1.0), (weeks[2].Counts.Succeeded, weeks[2].Counts.ExpiredSince, weeks[2].Counts.SuccessRate!.Value));
    }

    [Fact]
    public void MedianDuration_SuccessfulRunsOnly_ExpiredIncludedFailedLeftOut()
    {
        Assert.Equal(20, HistoryRules.MedianDurationSeconds(
        [
            Run(HistoryOutcome.Succeeded, seconds: 10), Run(HistoryOutcome.SucceededThenExpired, seconds: 20),
            Run(HistoryOutcome.Succeeded, seconds: 30), Run(HistoryOutcome.Failed, seconds: 999),
        ]));
        Assert.Equal(15, HistoryRules.MedianDurationSeconds([Run(HistoryOutcome.Succeeded, seconds: 10), Run(HistoryOutcome.Succeeded, seconds: 20)]));
        Assert.Null(HistoryRules.MedianDurationSeconds([Run(HistoryOutcome.Failed)]));
    }
}
