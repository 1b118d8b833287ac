using Bunit;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Components.Controls;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The row details of the Restores and Verification grids hold every measured part, whether or not the grid has
/// room for its column; the schedule lists show a UTC reader each time once.</summary>
[Trait("Capability", "Restore")]
public sealed class RunDetailsPanelTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 2, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RestorePanel_FinishedRun_ShowsModeRequesterAndEveryDuration()
    {
        var run = new RestoreRunItem(Guid.NewGuid(), Guid.NewGuid(), "hellojohn_20261125_020000.dump.zst", "demo", RestoreMode.NewDatabase, "hellojohn_restore",
            "127.0.0.1:5432", false, RestoreStatus.Succeeded, RestorePhase.Done, "ops@example.test", T0, T0, T0.AddSeconds(9), T0.AddSeconds(1),
            TimeSpan.FromSeconds(0.4), null, TimeSpan.FromSeconds(7.2), TimeSpan.FromSeconds(1.1), null, 2, true, 26355, null, null);
        var cut = Render<RestoreRunPanel>(ps => ps
            .Add(p => p.Run, run)
            .Add(p => p.LoadDetails, _ => Task.FromResult<RestoreRunDetails?>(new RestoreRunDetails(run, [new TableCountResult("public", "hj_user", 5000, 5000)], null))));

        cut.WaitForAssertion(() =>
        {
            var facts = cut.Find("[data-testid=restore-facts]").TextContent;
            foreach (var expected in new[] { "into a new database", "ops@example.test", "Checks0.4 s", "pg_restore7.2 s", "Count1.1 s", "Total9.0 s", "match the manifest" })
            {
                Assert.Contains(expected, facts);
            }

            Assert.DoesNotContain("Safety backup", facts);
            Assert.Contains("26,355 rows restored", cut.Markup);
        });
    }

    [Fact]
    public void VerificationPanel_Run_ShowsTriggerRowsAndTheThrowAwayDatabase()
    {
        var run = new VerificationRunItem(Guid.NewGuid(), Guid.NewGuid(), "hellojohn_20261125_020000.dump.zst", "demo", "hellojohn_verify_1764036000", "127.0.0.1:5433",
            VerificationStatus.Passed, VerificationTrigger.Scheduled, RestorePhase.Done, "system", T0, T0, T0.AddSeconds(6), TimeSpan.FromSeconds(0.3),
            TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(0.8), 2, 26355, null, null, true, null);
        var cut = Render<VerificationRunPanel>(ps => ps
            .Add(p => p.Run, run)
            .Add(p => p.Trigger, "weekly")
            .Add(p => p.LoadDetails, _ => Task.FromResult<VerificationRunDetails?>(new VerificationRunDetails(run, []))));

        cut.WaitForAssertion(() =>
        {
            var facts = cut.Find("[data-testid=verification-facts]").TextContent;
            Assert.Contains("Triggerweekly", facts);
            Assert.Contains("26,355", facts);
            Assert.Contains("pg_restore4.5 s", facts);
            Assert.Contains("hellojohn_verify_1764036000 (dropped)", facts);
        });
    }

    [Theory]
    [InlineData("Etc/UTC", "Mon 2026-11-30 02:00 UTC")]
    [InlineData("Europe/Berlin", "Mon 2026-11-30 03:00 · Mon 2026-11-30 02:00 UTC")]
    public void OccurrenceList_UtcReader_SeesEachTimeOnce(string zone, string expected)
    {
        var at = new DateTimeOffset(2026, 11, 30, 2, 0, 0, TimeSpan.Zero);
        var cut = Render<ScheduleOccurrenceList>(ps => ps
            .Add(p => p.Occurrences, [new CronOccurrence(at, at)])
            .Add(p => p.Zone, CronSchedule.FindZone(zone)!));

        Assert.Equal(expected, System.Text.RegularExpressions.Regex.Replace(cut.Find("[data-testid=occurrence]").TextContent, @"\s+", " ").Trim());
    }
}
