using Bunit;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Runs;
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

    private static PitrRestoreRecord Restore(RunStatus status, string dir) => new()
    {
        Id = Guid.NewGuid(), TargetId = Guid.NewGuid(), TargetTime = T0, Zone = "UTC", Mode = PitrRestoreMode.Verify, DataDirectory = dir, Port = 5499,
        Run = new RunRecord { Kind = RunKind.PitrRestore, Status = status, Phase = status == RunStatus.Running ? "Replaying WAL on port 5499 up to the target" : "Done", CreatedAt = T0, RequestedBy = "operator@example.test" },
    };

    [Fact]
    public void RestoreForm_OffersCancelForARunningRestoreOnly_ToThoseWhoMayRestore()
    {
        PitrRestoreRecord? cancelled = null;
        var running = Restore(RunStatus.Running, "/var/tmp/running");
        IReadOnlyList<PitrRestoreRecord> restores = [running, Restore(RunStatus.Succeeded, "/var/tmp/done")];
        var cut = Render<PitrRestoreForm>(ps => ps
            .Add(p => p.ServerId, Guid.NewGuid())
            .Add(p => p.CanRestore, true)
            .Add(p => p.Restores, restores)
            .Add(p => p.OnCancel, r => cancelled = r));

        var cancel = Assert.Single(cut.FindAll("[data-testid=cancel-pitr-restore]"));
        Assert.Contains("running · Replaying WAL", cut.FindAll("[data-testid=pitr-restore-status]")[0].TextContent);
        cancel.Click();
        Assert.Same(running, cancelled);

        var viewer = Render<PitrRestoreForm>(ps => ps
            .Add(p => p.ServerId, Guid.NewGuid())
            .Add(p => p.CanRestore, false)
            .Add(p => p.Restores, restores)
            .Add(p => p.OnCancel, r => cancelled = r));
        Assert.Empty(viewer.FindAll("[data-testid=cancel-pitr-restore]"));
    }

    [Fact]
    public void BaseBackupsTable_OffersCancelForARunningBaseBackupOnly()
    {
        BaseBackupRecord? cancelled = null;
        var running = new BaseBackupRecord { Id = Guid.NewGuid(), Status = BaseBackupStatus.Running, Reason = "scheduled", KeyPrefix = "k", StartedAt = T0 };
        IReadOnlyList<BaseBackupRecord> backups = [running, new() { Id = Guid.NewGuid(), Status = BaseBackupStatus.Succeeded, Reason = "scheduled", KeyPrefix = "k2", StartedAt = T0 }];
        var cut = Render<PitrBaseBackupsTable>(ps => ps
            .Add(p => p.BaseBackups, backups)
            .Add(p => p.CanCancel, true)
            .Add(p => p.OnCancel, b => cancelled = b));

        Assert.Single(cut.FindAll("[data-testid=cancel-pitr-base-backup]")).Click();
        Assert.Same(running, cancelled);
    }
}
