using HelloJohn.Console.Core.Pitr;

namespace HelloJohn.Console.Tests.Pitr;

[Trait("Capability", "Pitr")]
public sealed class PitrWindowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 20, 10, 0, 0, TimeSpan.Zero);

    private static WindowFile Seg(int tl, long seg, int minutes, WalFileKind kind = WalFileKind.Segment) =>
        new(new WalFileName(kind, tl, seg), T0.AddMinutes(minutes));

    private static WindowBackup Backup(int tl, long seg, int minutes) =>
        new(Guid.NewGuid(), tl, Lsn.OfSegmentStart(seg), new Lsn(Lsn.OfSegmentStart(seg).Value + 4096), T0.AddMinutes(minutes));

    [Theory]
    [InlineData("000000010000000000000003", WalFileKind.Segment, 1, 3L)]
    [InlineData("0000000200000001000000FF.partial", WalFileKind.Partial, 2, 0x1FFL)]
    [InlineData("00000003.history", WalFileKind.History, 3, 0L)]
    public void WalFileName_RoundTrips(string name, WalFileKind kind, int timeline, long segment)
    {
        Assert.True(WalFileName.TryParse(name, out var file));
        Assert.Equal(new WalFileName(kind, timeline, segment), file);
        Assert.Equal(name, file.SpoolName);
        Assert.False(WalFileName.TryParse("backup_manifest", out _));
    }

    [Fact]
    public void Window_RunsFromTheOldestBackupsEnd_ToTheNewestCommit_AndShowsAGap()
    {
        var files = new[] { Seg(1, 3, 1), Seg(1, 4, 2), Seg(1, 6, 4), Seg(1, 7, 5, WalFileKind.Partial) };
        var window = RecoverableWindow.Compute(files, new Dictionary<int, TimelineHistory>(), [Backup(1, 3, 0)], (1, T0.AddMinutes(6)));

        var tl = Assert.Single(window.Timelines);
        var gap = Assert.Single(tl.Gaps);
        Assert.Equal((5L, 5L), (gap.From, gap.To));
        var range = Assert.Single(tl.Ranges);
        Assert.Equal((T0, T0.AddMinutes(2)), (range.From, range.To));
        Assert.Null(window.Find(T0.AddMinutes(3)));
        Assert.NotNull(window.Find(T0.AddMinutes(1)));
    }

    [Fact]
    public void Window_FollowsTheHistoryOntoTheNewTimeline()
    {
        var history = TimelineHistory.Parse(2, "1\t0/5000100\tbefore 2026-01-20 10:04:00+00\n");
        var files = new[] { Seg(1, 3, 1), Seg(1, 4, 2), Seg(1, 5, 3), Seg(1, 6, 9), Seg(2, 5, 4), Seg(2, 6, 5, WalFileKind.Partial) };
        var window = RecoverableWindow.Compute(files, new Dictionary<int, TimelineHistory> { [2] = history }, [Backup(1, 3, 0)], (2, T0.AddMinutes(6)));

        Assert.Equal([1, 2], window.Timelines.Select(t => t.Timeline));
        var latest = window.Latest!;
        Assert.Empty(latest.Gaps);
        Assert.Equal(T0.AddMinutes(6), latest.Ranges.Single().To);
        Assert.Equal(1, history.TimelineOfSegment(4));
        Assert.Equal(2, history.TimelineOfSegment(5));
        Assert.Equal(2, window.Find(T0.AddMinutes(5))!.Timeline);
    }

    [Fact]
    public void WalDump_ReadsCommitTimesAndTheEndOfValidWal()
    {
        const string stdout = """
            rmgr: Transaction len (rec/tot):     34/    34, tx:        725, lsn: 0/02000068, prev 0/02000028, desc: COMMIT 2026-11-29 11:05:01.421076 UTC
            rmgr: Transaction len (rec/tot):    405/   405, tx:        726, lsn: 0/02000100, prev 0/02000090, desc: COMMIT 2026-11-29 11:05:02 UTC; inval msgs: catcache 80
            """;
        var commits = WalDump.Parse(stdout, "pg_waldump: error: error in WAL record at 0/2000100: invalid record length at 0/2000300: wanted 24, got 0");
        Assert.Equal(2, commits.Commits);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 11, 5, 1, TimeSpan.Zero).AddTicks(4210760), commits.FirstCommitAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 11, 5, 2, TimeSpan.Zero), commits.LastCommitAt);
        Assert.Equal(Lsn.Parse("0/2000300"), commits.EndOfValidWal);
    }

    [Fact]
    public void BaseBackupRetention_KeepsTheNewestCount_AndExpiresOlderOnesPastTheAge()
    {
        BaseBackupRecord B(int daysAgo, long seg) => new()
        {
            Id = Guid.NewGuid(), Reason = "t", KeyPrefix = "k", Status = BaseBackupStatus.Succeeded,
            StartedAt = T0.AddDays(-daysAgo), ConsistentAt = T0.AddDays(-daysAgo), StartLsn = Lsn.OfSegmentStart(seg).ToString(),
        };
        var backups = new[] { B(0, 90), B(1, 80), B(5, 50), B(10, 10), B(20, 5) };
        var plan = BaseBackupRetentionPlan.For(backups, T0, new PitrOptions { KeepBaseBackups = 2, BaseBackupMaxAge = TimeSpan.FromDays(7) });
        Assert.Equal(3, plan.Keep.Count);
        Assert.Equal([backups[3].Id, backups[4].Id], plan.Expire);
        Assert.Equal(50, plan.OldestNeededSegment);
    }
}
