using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Tests.Retention;

[Trait("Capability", "Retention")]
public class RetentionPlannerTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static readonly Dictionary<BackupTier, IReadOnlyList<string>> RecommendedLayout = new()
    {
        [BackupTier.Daily] = ["local", "s3"],
        [BackupTier.Weekly] = ["s3-weekly"],
        [BackupTier.Monthly] = ["s3-monthly"],
    };

    public static TheoryData<string, string, string[]> FourHundredDays => new()
    {
        // Sat 15 Mar 2025. Daily 9–15 Mar; weekly = weeks from Sun 9 Mar (also daily: the overlap), 2 Mar, 23 Feb, 16 Feb;
        // monthly 1 Mar, 1 Feb, 1 Jan (year boundary). 7 + 4 + 3 − 1 overlap = 13.
        {
            "2025-03-15", "7+4+3-1",
            ["2025-03-15", "2025-03-14", "2025-03-13", "2025-03-12", "2025-03-11", "2025-03-10", "2025-03-09",
             "2025-03-02", "2025-02-23", "2025-02-16", "2025-03-01", "2025-02-01", "2025-01-01"]
        },
        // Tue 3 Jun 2025. Sun 1 Jun is daily, weekly and monthly at once: 7 + 4 + 3 − 1 (weekly) − 1 (monthly) = 12.
        {
            "2025-06-03", "7+4+3-2",
            ["2025-06-03", "2025-06-02", "2025-06-01", "2025-05-31", "2025-05-30", "2025-05-29", "2025-05-28",
             "2025-05-25", "2025-05-18", "2025-05-11", "2025-05-01", "2025-04-01"]
        },
        // Thu 2 Jan 2025, across the year boundary. Sun 29 Dec is daily and weekly, Wed 1 Jan daily and monthly:
        // 7 + 4 + 3 − 2 = 12. Sun 1 Dec is monthly only (weekly slots end at 8 Dec).
        {
            "2025-01-02", "7+4+3-2",
            ["2025-01-02", "2025-01-01", "2024-12-31", "2024-12-30", "2024-12-29", "2024-12-28", "2024-12-27",
             "2024-12-22", "2024-12-15", "2024-12-08", "2024-12-01", "2024-11-01"]
        },
    };

    [Theory]
    [MemberData(nameof(FourHundredDays))]
    public void Plan_FourHundredDailyBackups_KeepsDailyWeeklyMonthlyMinusOverlaps(string lastDay, string arithmetic, string[] expectedKept)
    {
        var last = DateOnly.Parse(lastDay);
        var backups = Daily(last, 400);

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        Assert.Equal(expectedKept.Select(DateOnly.Parse).Order(), plan.Kept.Select(d => d.LocalDate).Order());
        Assert.Equal(400 - expectedKept.Length, plan.Expired.Count());
        Assert.False(plan.SafetyHold);
        Assert.NotEmpty(arithmetic);
        Assert.All(plan.Expired, d => Assert.Equal(RetentionReasons.Expired, d.Reasons));
        Assert.Equal(7, plan.Kept.Count(d => d.Reasons.HasFlag(RetentionReasons.Daily)));
        Assert.Equal(4, plan.Kept.Count(d => d.Reasons.HasFlag(RetentionReasons.Weekly)));
        Assert.Equal(3, plan.Kept.Count(d => d.Reasons.HasFlag(RetentionReasons.Monthly)));
        Assert.All(plan.Kept.Where(d => d.Reasons.HasFlag(RetentionReasons.Weekly)), d => Assert.Equal(DayOfWeek.Sunday, d.LocalDate.DayOfWeek));
        Assert.All(plan.Kept.Where(d => d.Reasons.HasFlag(RetentionReasons.Monthly)), d => Assert.Equal(1, d.LocalDate.Day));
    }

    [Fact]
    public void Plan_EveryDecision_SaysWhy()
    {
        var last = new DateOnly(2025, 3, 15);
        var plan = RetentionPlanner.Plan(Daily(last, 60), Noon(last), RetentionPolicy.Recommended, Berlin);

        Assert.Equal(60, plan.Decisions.Count);
        // The daily rule changed from "the newest backup of each of 7 days" to "every backup of the last 7 days" (issue:
        // a manual backup must not vanish because another followed on the same day), and so did its words.
        Assert.Equal("Kept: taken within the daily window (every backup of the last 7 days, since Sun 9 Mar 2025); weekly backup of the week from Sun 9 Mar 2025 (1 of 4)", plan.Decisions.Single(d => d.LocalDate == new DateOnly(2025, 3, 9)).Explanation);
        Assert.Equal("Kept: monthly backup of February 2025 (2 of 3)", plan.Decisions.Single(d => d.LocalDate == new DateOnly(2025, 2, 1)).Explanation);
        Assert.Equal("Expired: older than the 7-day daily window, not the weekly or monthly backup kept for its period, and not among the newest 7", plan.Decisions.Single(d => d.LocalDate == new DateOnly(2025, 3, 8)).Explanation);
    }

    [Fact]
    public void Plan_BackupsAfterMidnightAcrossSpringDst_BelongToTheirLocalDay()
    {
        // 00:30 in Berlin is 23:30 UTC the day before in winter and 22:30 UTC in summer: by UTC dates every backup would
        // fall on the previous day. DST starts on Sun 30 Mar 2025.
        var last = new DateOnly(2025, 4, 2);
        var backups = Daily(last, 90, hour: 0, minute: 30);

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        var daily = plan.Kept.Where(d => d.Reasons.HasFlag(RetentionReasons.Daily)).Select(d => d.LocalDate).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 7).Select(i => new DateOnly(2025, 3, 27).AddDays(i)), daily);
        var dstSunday = plan.Kept.Single(d => d.Reasons.HasFlag(RetentionReasons.Weekly) && d.LocalDate == new DateOnly(2025, 3, 30));
        Assert.Equal(new DateTimeOffset(2025, 3, 29, 23, 30, 0, TimeSpan.Zero), dstSunday.CreatedAt);
        // 1 Apr 00:30 local is still 31 Mar in UTC.
        Assert.Equal([new DateOnly(2025, 2, 1), new DateOnly(2025, 3, 1), new DateOnly(2025, 4, 1)],
            plan.Kept.Where(d => d.Reasons.HasFlag(RetentionReasons.Monthly)).Select(d => d.LocalDate).Order());
    }

    [Fact]
    public void Plan_TwoBackupsInTheRepeatedAutumnHour_BothDailyFirstIsWeekly()
    {
        // Sun 26 Oct 2025 02:30 happens twice in Berlin (00:30 and 01:30 UTC). Both are that Sunday: the first of the
        // week is the weekly one. Both are daily now: the daily window keeps every backup of its days (it used to keep
        // only the newest of each day, which let the earlier one go).
        var last = new DateOnly(2025, 10, 28);
        var backups = Daily(last, 30).Where(b => TimeZoneInfo.ConvertTime(b.CreatedAt, Berlin).Date != new DateTime(2025, 10, 26)).ToList();
        var first = Backup(new DateTimeOffset(2025, 10, 26, 0, 30, 0, TimeSpan.Zero));
        var second = Backup(new DateTimeOffset(2025, 10, 26, 1, 30, 0, TimeSpan.Zero));
        backups.AddRange([first, second]);

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        Assert.Equal(new DateOnly(2025, 10, 26), plan.For(first.Id).LocalDate);
        Assert.Equal(new DateOnly(2025, 10, 26), plan.For(second.Id).LocalDate);
        Assert.Equal(RetentionReasons.Daily | RetentionReasons.Weekly, plan.For(first.Id).Reasons);
        Assert.Equal(RetentionReasons.Daily, plan.For(second.Id).Reasons);
    }

    [Fact]
    public void Plan_MissingRecentDays_TheMinimumKeepsTheNewestSeven()
    {
        // Daily slots used to be filled backwards over missing days. The daily window is calendar days now, and the
        // minimum count is what keeps the newest backups when days are missing.
        var last = new DateOnly(2025, 3, 15);
        var backups = Daily(last, 400).Where(b => LocalDay(b) < new DateOnly(2025, 3, 13)).ToList();

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        var daily = plan.Kept.Where(d => d.Reasons.HasFlag(RetentionReasons.Daily)).Select(d => d.LocalDate).Order();
        Assert.Equal(Enumerable.Range(9, 4).Select(day => new DateOnly(2025, 3, day)), daily);
        var minimum = plan.Kept.Where(d => d.Reasons == RetentionReasons.MinimumCount).Select(d => d.LocalDate).Order();
        Assert.Equal([new DateOnly(2025, 3, 6), new DateOnly(2025, 3, 7), new DateOnly(2025, 3, 8)], minimum);
    }

    [Fact]
    public void Plan_SundayMissing_WeeklyIsTheFirstBackupOfThatWeek()
    {
        var last = new DateOnly(2025, 3, 15);
        var backups = Daily(last, 100).Where(b => LocalDay(b) != new DateOnly(2025, 3, 2)).ToList();

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        var weekly = plan.Kept.Where(d => d.Reasons.HasFlag(RetentionReasons.Weekly)).Select(d => d.LocalDate).Order();
        Assert.Equal([new DateOnly(2025, 2, 16), new DateOnly(2025, 2, 23), new DateOnly(2025, 3, 3), new DateOnly(2025, 3, 9)], weekly);
    }

    [Fact]
    public void Plan_FailedDays_DoNotTakeSlotsAndAreNotBackups()
    {
        var last = new DateOnly(2025, 3, 15);
        var failedDay = new DateOnly(2025, 3, 12);
        var backups = Daily(last, 100, status: d => d == failedDay ? RetentionCandidateStatus.Failed : RetentionCandidateStatus.Succeeded);

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        var failed = plan.Decisions.Single(d => d.LocalDate == failedDay);
        Assert.Equal(RetentionVerdict.NotABackup, failed.Verdict);
        Assert.Equal(RetentionReasons.FailedRun, failed.Reasons);
        // The daily window is 9–15 Mar (calendar days, no longer seven slots filled backwards); the minimum count keeps 8 Mar.
        var daily = plan.Kept.Where(d => d.Reasons.HasFlag(RetentionReasons.Daily)).Select(d => d.LocalDate.Day).Order();
        Assert.Equal([9, 10, 11, 13, 14, 15], daily);
        Assert.Equal(RetentionReasons.MinimumCount, plan.Decisions.Single(d => d.LocalDate == new DateOnly(2025, 3, 8)).Reasons);
    }

    [Fact]
    public void Plan_LatestRunFailed_ExpiresNothing()
    {
        var last = new DateOnly(2025, 3, 15);
        var backups = Daily(last, 400, status: d => d == last ? RetentionCandidateStatus.Failed : RetentionCandidateStatus.Succeeded);

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended with { TierStores = RecommendedLayout }, Berlin);

        Assert.True(plan.SafetyHold);
        Assert.Empty(plan.Expired);
        Assert.Empty(plan.Prunes);
        Assert.Equal(399 - 13, plan.Kept.Count(d => d.Reasons == RetentionReasons.LatestRunFailed));
        Assert.Contains("latest backup run failed", plan.Decisions.First(d => d.Reasons == RetentionReasons.LatestRunFailed).Explanation);
    }

    [Fact]
    public void Plan_RunningAfterAFailedRun_StillHoldsEverything()
    {
        var last = new DateOnly(2025, 3, 15);
        var backups = Daily(last, 50, status: d => d == last ? RetentionCandidateStatus.Running
            : d == last.AddDays(-1) ? RetentionCandidateStatus.Failed : RetentionCandidateStatus.Succeeded);

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        Assert.True(plan.SafetyHold);
        Assert.Empty(plan.Expired);
        Assert.Equal(RetentionReasons.InProgress, plan.Decisions.Single(d => d.LocalDate == last).Reasons);
    }

    [Fact]
    public void Plan_RunningAfterASuccess_KeepsItInProgressAndExpiresAsUsual()
    {
        var last = new DateOnly(2025, 3, 15);
        var backups = Daily(last, 50, status: d => d == last ? RetentionCandidateStatus.Running : RetentionCandidateStatus.Succeeded);

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        Assert.False(plan.SafetyHold);
        Assert.Equal(RetentionVerdict.Keep, plan.Decisions.Single(d => d.LocalDate == last).Verdict);
        Assert.Equal(RetentionReasons.InProgress, plan.Decisions.Single(d => d.LocalDate == last).Reasons);
        Assert.NotEmpty(plan.Expired);
    }

    [Fact]
    public void Plan_PinnedAndNewestVerified_AreKeptOlderVerifiedIsNot()
    {
        var last = new DateOnly(2025, 3, 15);
        var pinnedDay = last.AddDays(-200);
        var verifiedDay = last.AddDays(-19);
        var olderVerifiedDay = last.AddDays(-40);
        var backups = Daily(last, 400).Select(b => LocalDay(b) == pinnedDay ? b with { Pinned = true }
            : LocalDay(b) == verifiedDay || LocalDay(b) == olderVerifiedDay ? b with { LastVerifiedAt = b.CreatedAt.AddHours(3) }
            : b).ToList();

        var plan = RetentionPlanner.Plan(backups, Noon(last), RetentionPolicy.Recommended, Berlin);

        Assert.Equal(RetentionReasons.Pinned, plan.Decisions.Single(d => d.LocalDate == pinnedDay).Reasons);
        Assert.Equal(RetentionReasons.NewestVerified, plan.Decisions.Single(d => d.LocalDate == verifiedDay).Reasons);
        Assert.Equal(RetentionVerdict.Expire, plan.Decisions.Single(d => d.LocalDate == olderVerifiedDay).Verdict);
        Assert.Equal(15, plan.Kept.Count());
    }

    [Fact]
    public void Plan_KeepDaysPolicy_KeepsTheLastThirtyLocalDays()
    {
        var last = new DateOnly(2025, 3, 15);

        var plan = RetentionPlanner.Plan(Daily(last, 400), Noon(last), RetentionPolicy.KeepDaysPolicy(30), Berlin);

        Assert.Equal(Enumerable.Range(0, 30).Select(i => last.AddDays(-i)).Order(), plan.Kept.Select(d => d.LocalDate).Order());
        Assert.All(plan.Kept, d => Assert.Equal(RetentionReasons.WithinDays, d.Reasons));
        Assert.Equal(370, plan.Expired.Count());
    }

    [Theory]
    [InlineData(RetentionMode.KeepDays)]
    [InlineData(RetentionMode.Tiered)]
    public void Plan_AfterBackupsStopped_KeepsTheNewestSevenWhateverTheirAge(RetentionMode mode)
    {
        // Only the newest backup used to survive; the minimum count (Retention__MinimumKept, 7) keeps the newest seven.
        var lastBackup = new DateOnly(2025, 1, 10);
        var policy = RetentionPolicy.KeepDaysPolicy(30) with { Mode = mode };

        var plan = RetentionPlanner.Plan(Daily(lastBackup, 100), Noon(lastBackup.AddDays(60)), policy, Berlin);

        var newestSeven = plan.Decisions.OrderByDescending(d => d.CreatedAt).Take(7).ToList();
        Assert.All(newestSeven, d => Assert.Equal(RetentionVerdict.Keep, d.Verdict));
        Assert.Equal(RetentionReasons.NewestBackup, newestSeven[0].Reasons & RetentionReasons.NewestBackup);
        Assert.All(newestSeven.Skip(1).Where(d => d.Tier is null), d => Assert.Equal(RetentionReasons.MinimumCount, d.Reasons));
        Assert.Contains(newestSeven, d => d.Explanation.Contains("one of the newest 7 backups, kept whatever their age", StringComparison.Ordinal));
        if (mode == RetentionMode.KeepDays)
        {
            Assert.Equal(7, plan.Kept.Count());
        }
    }

    [Fact]
    public void Plan_TwoBackupsOnTheSameDay_TheEarlierUnverifiedOneStays()
    {
        // The case: a backup taken "before the risky change", then another one the same day.
        var last = new DateOnly(2025, 3, 15);
        var backups = Daily(last, 30);
        var beforeTheChange = Backup(LocalTime(last, 9, 0));
        var after = Backup(LocalTime(last, 9, 5));
        backups.AddRange([beforeTheChange, after]);

        var plan = RetentionPlanner.Plan(backups, LocalTime(last, 9, 6), RetentionPolicy.Recommended, Berlin);

        Assert.Equal(RetentionVerdict.Keep, plan.For(beforeTheChange.Id).Verdict);
        Assert.Equal(RetentionReasons.Daily, plan.For(beforeTheChange.Id).Reasons);
        Assert.Equal(RetentionVerdict.Keep, plan.For(after.Id).Verdict);
        Assert.Equal(3, plan.Kept.Count(d => d.LocalDate == last));
    }

    [Fact]
    public void Plan_WeekWhoseFirstBackupIsOnlyInS3_KeepsTheOneInBothStores()
    {
        // Seen when S3 came and went: the first of the week was held by S3 alone, a later one by the local disk and S3.
        var last = new DateOnly(2025, 3, 15);
        var policy = RetentionPolicy.Recommended with { TierStores = new Dictionary<BackupTier, IReadOnlyList<string>> { [BackupTier.Daily] = ["local", "s3"], [BackupTier.Weekly] = ["local", "s3"], [BackupTier.Monthly] = ["local", "s3"] } };
        var backups = Daily(last, 60).Select(b => LocalDay(b) == new DateOnly(2025, 2, 23) ? b with { Stores = ["s3"], PartiallyStored = true } : b).ToList();
        var partial = backups.Single(b => LocalDay(b) == new DateOnly(2025, 2, 23));
        var complete = backups.Single(b => LocalDay(b) == new DateOnly(2025, 2, 24));

        var plan = RetentionPlanner.Plan(backups, Noon(last), policy, Berlin);

        Assert.True(plan.For(complete.Id).Reasons.HasFlag(RetentionReasons.Weekly), plan.For(complete.Id).Explanation);
        Assert.False(plan.For(partial.Id).Reasons.HasFlag(RetentionReasons.Weekly));
        // And the partial one is not deleted while Retry upload could still complete it.
        Assert.Equal(RetentionReasons.AwaitingRetry, plan.For(partial.Id).Reasons);
        Assert.Equal("Kept: partially stored (not yet in local): kept until Retry upload completes it", plan.For(partial.Id).Explanation);
    }

    [Fact]
    public void Plan_PartiallyStoredWhoseStoresAreGone_ExpiresAsUsual()
    {
        // Retry upload copies from a configured store that holds it; with none left it can never complete.
        var last = new DateOnly(2025, 3, 15);
        var policy = RetentionPolicy.Recommended with { TierStores = RecommendedLayout };
        var backups = Daily(last, 60).Select(b => LocalDay(b) == new DateOnly(2025, 2, 3) ? b with { Stores = ["old-bucket"], PartiallyStored = true } : b).ToList();

        var plan = RetentionPlanner.Plan(backups, Noon(last), policy, Berlin);

        Assert.Equal(RetentionVerdict.Expire, plan.Decisions.Single(d => d.LocalDate == new DateOnly(2025, 2, 3)).Verdict);
    }

    [Fact]
    public void Plan_WeeklyAndMonthlyInTheSameStoreItLacks_OneCopy()
    {
        // Neither tier has stores of its own, so both live in the daily stores: a backup that is the weekly and the
        // monthly one and lacks s3 gets one copy there. Two used to be planned, and the second failed with "The instance
        // of entity type 'BackupLocation' cannot be tracked".
        var day = new DateOnly(2025, 6, 1);
        var policy = RetentionPolicy.Recommended with { TierStores = new Dictionary<BackupTier, IReadOnlyList<string>> { [BackupTier.Daily] = ["local", "s3"], [BackupTier.Weekly] = ["local", "s3"], [BackupTier.Monthly] = ["local", "s3"] } };
        var only = Backup(LocalTime(day, 2, 0)) with { Stores = ["local"], PartiallyStored = true };

        var plan = RetentionPlanner.Plan([only], Noon(day), policy, Berlin);

        Assert.Equal(RetentionReasons.Daily | RetentionReasons.Weekly | RetentionReasons.Monthly | RetentionReasons.AwaitingRetry, plan.For(only.Id).Reasons);
        var copy = Assert.Single(plan.Copies);
        Assert.Equal("s3", copy.ToStore);
    }

    [Fact]
    public void Plan_WithTierStores_CopiesWeeklyAndMonthlyAndPrunesDailyCopiesTheyNoLongerNeed()
    {
        var last = new DateOnly(2025, 3, 15);
        var policy = RetentionPolicy.Recommended with { TierStores = RecommendedLayout };

        var plan = RetentionPlanner.Plan(Daily(last, 400), Noon(last), policy, Berlin);

        var dayOf = plan.Decisions.ToDictionary(d => d.BackupId, d => d.LocalDate.ToString("MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["02-16", "02-23", "03-02", "03-09"], plan.Copies.Where(c => c.ToStore == "s3-weekly").Select(c => dayOf[c.BackupId]).Order());
        Assert.Equal(["01-01", "02-01", "03-01"], plan.Copies.Where(c => c.ToStore == "s3-monthly").Select(c => dayOf[c.BackupId]).Order());
        // 9 Mar is also daily, so it stays in local and s3; the weekly-only and monthly-only ones leave both.
        Assert.Equal(12, plan.Prunes.Count);
        Assert.DoesNotContain(plan.Prunes, p => dayOf[p.BackupId] == "03-09");
        Assert.Equal(["local", "s3"], plan.Prunes.Where(p => dayOf[p.BackupId] == "03-02").Select(p => p.FromStore).Order());
    }

    [Fact]
    public void Plan_AfterCopiesAndPrunesApplied_PlansNothingMore()
    {
        var last = new DateOnly(2025, 3, 15);
        var policy = RetentionPolicy.Recommended with { TierStores = RecommendedLayout };
        var backups = Daily(last, 400);
        var first = RetentionPlanner.Plan(backups, Noon(last), policy, Berlin);

        var applied = backups
            .Where(b => first.For(b.Id).Verdict != RetentionVerdict.Expire)
            .Select(b => b with
            {
                Stores = b.Stores.Concat(first.Copies.Where(c => c.BackupId == b.Id).Select(c => c.ToStore))
                    .Except(first.Prunes.Where(p => p.BackupId == b.Id).Select(p => p.FromStore)).ToList(),
            }).ToList();
        var second = RetentionPlanner.Plan(applied, Noon(last), policy, Berlin);

        Assert.Empty(second.Copies);
        Assert.Empty(second.Prunes);
        Assert.Empty(second.Expired);
        Assert.Equal(first.Kept.Select(d => d.BackupId).Order(), second.Kept.Select(d => d.BackupId).Order());
    }

    [Fact]
    public void Plan_NextDayInTheSameWeek_KeepsTheSameWeeklyAndMonthlyBackups()
    {
        // Within a week or month the choice must not move to the newer backup, or the tier stores would churn.
        var last = new DateOnly(2025, 3, 12);
        var backups = Daily(last.AddDays(1), 400);

        var today = RetentionPlanner.Plan(backups.Where(b => LocalDay(b) <= last).ToList(), Noon(last), RetentionPolicy.Recommended, Berlin);
        var tomorrow = RetentionPlanner.Plan(backups, Noon(last.AddDays(1)), RetentionPolicy.Recommended, Berlin);

        static IEnumerable<Guid> Tiered(RetentionPlan p) => p.Kept.Where(d => (d.Reasons & (RetentionReasons.Weekly | RetentionReasons.Monthly)) != 0).Select(d => d.BackupId).Order();
        Assert.Equal(Tiered(today), Tiered(tomorrow));
    }

    [Fact]
    public void Plan_NoBackups_IsEmpty()
    {
        var plan = RetentionPlanner.Plan([], DateTimeOffset.UnixEpoch, RetentionPolicy.Recommended, Berlin);

        Assert.Empty(plan.Decisions);
        Assert.False(plan.SafetyHold);
    }

    [Theory]
    [InlineData(0, 7, "Retention__Daily")]
    [InlineData(7, 0, "Retention__MinimumKept")]
    public void Plan_ZeroDailyWindowOrMinimum_IsRefusedNamingTheSetting(int daily, int minimum, string setting)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            RetentionPlanner.Plan(Daily(new DateOnly(2025, 3, 15), 10), DateTimeOffset.UnixEpoch, RetentionPolicy.Recommended with { Daily = daily, MinimumKept = minimum }, Berlin));

        Assert.Contains(setting, e.Message);
    }

    [Fact]
    public void Plan_SameBackupTwice_IsRefused()
    {
        var b = Backup(DateTimeOffset.UnixEpoch);

        Assert.Throws<ArgumentException>(() => RetentionPlanner.Plan([b, b], DateTimeOffset.UnixEpoch, RetentionPolicy.Recommended, Berlin));
    }

    /// <summary>One backup a day at <paramref name="hour"/>:<paramref name="minute"/> Berlin time, the newest on <paramref name="last"/>.</summary>
    private static List<RetentionCandidate> Daily(DateOnly last, int days, int hour = 2, int minute = 0, Func<DateOnly, RetentionCandidateStatus>? status = null) =>
        Enumerable.Range(0, days)
            .Select(i => last.AddDays(-i))
            .Select(day => Backup(LocalTime(day, hour, minute), status?.Invoke(day) ?? RetentionCandidateStatus.Succeeded))
            .ToList();

    private static RetentionCandidate Backup(DateTimeOffset at, RetentionCandidateStatus status = RetentionCandidateStatus.Succeeded) =>
        new(Guid.NewGuid(), at, status) { Stores = ["local", "s3"], FileName = $"hellojohn_{at.UtcDateTime:yyyyMMdd_HHmmss}.dump" };

    private static DateTimeOffset LocalTime(DateOnly day, int hour, int minute)
    {
        var local = day.ToDateTime(new TimeOnly(hour, minute));
        return new DateTimeOffset(local, Berlin.GetUtcOffset(local));
    }

    private static DateTimeOffset Noon(DateOnly day) => LocalTime(day, 12, 0);

    private static DateOnly LocalDay(RetentionCandidate b) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(b.CreatedAt, Berlin).DateTime);
}
