using Bunit;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Web.Components.Controls;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The Point-in-time page's panels: the alarm and the lines to set, gaps in the window, a refused restore.</summary>
[Trait("Capability", "Pitr")]
public sealed class PitrControlsTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 20, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ReadinessPanel_WithASlotOverTheThreshold_ShowsTheAlarmAndTheLinesToRun()
    {
        var facts = new ReadinessFacts
        {
            Role = "hellojohn", WalLevel = "minimal", MaxWalSenders = 0, MaxReplicationSlots = 10, RoleCanReplicate = false,
            SlotName = "hellojohn_console_x", SlotExists = true, SlotRetainedBytes = 3L << 30,
        };
        var report = PitrReadiness.Evaluate(facts, 1L << 30, T0);

        var cut = Render<PitrReadinessPanel>(ps => ps.Add(p => p.Report, report));

        Assert.Equal("red", cut.Find("[data-testid=pitr-readiness-level]").TextContent.Trim());
        Assert.NotNull(cut.Find("[data-testid=pitr-slot-alarm]"));
        Assert.Contains("ALTER SYSTEM SET wal_level = 'replica';", cut.Markup);
        Assert.Contains("ALTER ROLE \"hellojohn\" WITH REPLICATION;", cut.Find("[data-testid=pitr-readiness]").TextContent);
        Assert.Contains("pg_drop_replication_slot", cut.Markup);
    }

    [Fact]
    public void WindowPanel_ShowsEachTimelineWithItsGaps()
    {
        var files = new[] { 3L, 4L, 6L }.Select(s => new WindowFile(WalFileName.SegmentOf(1, s), T0.AddMinutes(s))).ToList();
        var backup = new WindowBackup(Guid.NewGuid(), 1, Lsn.OfSegmentStart(3), Lsn.OfSegmentStart(3), T0);
        var window = RecoverableWindow.Compute(files, new Dictionary<int, TimelineHistory>(), [backup]);

        var cut = Render<PitrWindowPanel>(ps => ps.Add(p => p.Window, window));

        Assert.Single(cut.FindAll("[data-testid=pitr-timeline]"));
        Assert.Contains("segment 000000010000000000000005 is missing", cut.Find("[data-testid=pitr-gap]").TextContent);
    }

    [Fact]
    public void RestoreForm_Refused_ShowsTheReasonBesideTheForm()
    {
        PitrRestoreRequest? sent = null;
        var cut = Render<PitrRestoreForm>(ps => ps
            .Add(p => p.ServerId, Guid.NewGuid())
            .Add(p => p.CanRestore, true)
            .Add(p => p.OnRequest, request =>
            {
                sent = request;
                return Task.FromResult<string?>("2026-01-20 09:00:00 UTC cannot be restored: it is before the end of the oldest base backup. Nothing was restored.");
            }));

        cut.Find("[data-testid=pitr-restore-submit]").Click();

        cut.WaitForAssertion(() => Assert.Contains("before the end of the oldest base backup", cut.Find("[data-testid=pitr-refusal]").TextContent));
        Assert.Equal("UTC", sent!.Zone);
        Assert.Equal(PitrRestoreMode.Verify, sent.Mode);
    }
}
