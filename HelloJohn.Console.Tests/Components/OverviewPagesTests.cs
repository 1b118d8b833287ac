using HelloJohn.Console.Core.Runs;
using Bunit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using AuditPage = HelloJohn.Console.Web.Components.Pages.Audit;
using HistoryPage = HelloJohn.Console.Web.Components.Pages.History;
using RecoveryPage = HelloJohn.Console.Web.Components.Pages.Recovery;

namespace HelloJohn.Console.Tests.Components;

/// <summary>History, Audit and Recovery on the real catalog and audit trail, as each role reads them.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class OverviewPagesTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    [Fact]
    public async Task History_ExpiredFailedVerifiedAndDrilled_CountsAndDrawsEachOnTheTimeLine()
    {
        var now = DateTimeOffset.UtcNow;
        await using (var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            var n = 0;
            void Add(double daysAgo, BackupStatus status, long? size, string? error = null)
            {
                var at = now.AddDays(-daysAgo);
                db.Backups.Add(new BackupRecord
                {
                    Id = Guid.NewGuid(), TargetId = App.TargetId, FileName = $"hellojohn_hist_{n++}_{Guid.NewGuid():N}"[..30] + ".dump.zst", Status = status,
                    CreatedAt = at, StartedAt = at, FinishedAt = at.AddSeconds(20), SizeBytes = size, Error = error,
                    ExpiredAt = status == BackupStatus.Expired ? now.AddDays(-1) : null,
                });
            }

            Add(12, BackupStatus.Expired, 2_000_000);
            Add(8, BackupStatus.Succeeded, 2_100_000);
            Add(5, BackupStatus.Failed, null, "Could not reach the database. Nothing was backed up.");
            Add(1, BackupStatus.Succeeded, 2_200_000);
            var verificationId = Guid.NewGuid();
            db.Add(RunFixtures.Ended(RunKind.Verification, App.TargetId, verificationId, RunStatus.Succeeded, now.AddDays(-1), now.AddDays(-1), now.AddDays(-1).AddSeconds(40)));
            db.Set<VerificationRun>().Add(new VerificationRun { Id = verificationId, BackupFileName = "hellojohn_x.dump.zst" });
            var drillId = Guid.NewGuid();
            db.Add(RunFixtures.Ended(RunKind.Recovery, App.TargetId, drillId, RunStatus.Succeeded, now.AddDays(-2).AddMinutes(-3), now.AddDays(-2).AddMinutes(-3), now.AddDays(-2)));
            db.Set<RecoveryRun>().Add(new RecoveryRun
            {
                Id = drillId, TargetId = App.TargetId, Scenario = RecoveryScenario.Drill, Status = RecoveryRunStatus.Completed, StartedBy = "system",
                StartedAt = now.AddDays(-2).AddMinutes(-3), EndedAt = now.AddDays(-2), Rto = TimeSpan.FromMinutes(3),
            });
            await db.SaveChangesAsync();
        }

        var page = RenderPage<HistoryPage>(ConsoleRoles.Viewer);

        page.WaitForAssertion(() => Assert.Equal("3", page.Find("[data-testid=succeeded]").TextContent.Trim()));
        Assert.Equal("1 since expired by retention", page.Find("[data-testid=expired-since]").TextContent.Trim());
        Assert.Equal("1", page.Find("[data-testid=failed]").TextContent.Trim());
        Assert.Equal("75 %", page.Find("[data-testid=success-rate]").TextContent.Trim());
        Assert.Equal("3 min 00 s", page.Find("[data-testid=latest-rto]").TextContent.Trim());
        Assert.Equal(3, page.FindAll("[data-testid=chart-size] [data-testid=chart-point]").Count);
        Assert.Contains("MB", page.Find("[data-testid=chart-size] .tchart-ylabel:last-child").TextContent);
        Assert.Equal(2, page.FindAll("[data-testid=chart-proofs] [data-testid=chart-point]").Count);
        Assert.NotEmpty(page.FindAll("[data-testid=chart-weekly] [data-testid=chart-bar]"));
        var unsuccessful = page.Find("[data-testid=unsuccessful]").TextContent;
        Assert.Contains("Could not reach the database", unsuccessful);
        Assert.DoesNotContain("expired", unsuccessful);
    }

    [Fact]
    public void Audit_ScheduleTargets_AreNamedNotShownAsIds()
    {
        var page = RenderPage<AuditPage>(ConsoleRoles.Viewer);

        page.WaitForAssertion(() => Assert.Contains(page.FindAll("[data-testid=audit-target]"), t => t.TextContent.Trim() == "Recovery drill · test"));
        var drill = page.FindAll("[data-testid=audit-target] span").First(t => t.TextContent.Trim() == "Recovery drill · test");
        Assert.Equal($"drill:{App.TargetId}", drill.GetAttribute("title"));
        Assert.DoesNotContain(page.FindAll("[data-testid=audit-target]"), t => t.TextContent.Contains(App.TargetId.ToString(), StringComparison.Ordinal));
        Assert.Contains(page.FindAll("[data-testid=audit-detail]"), d => d.TextContent.Contains("Created with the default", StringComparison.Ordinal));
    }

    [Fact]
    public void Recovery_Viewer_IsToldWhyThereIsNothingToPress()
    {
        var page = RenderPage<RecoveryPage>(ConsoleRoles.Viewer, interactive: true);

        page.WaitForAssertion(() => Assert.Contains("Your role (Viewer) can follow recoveries", page.Find("[data-testid=viewer-note]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=incident-time]"));
        Assert.Empty(page.FindAll("button[aria-label^='Start ']"));
        Assert.Equal(4, page.FindAll(".mud-card-actions").Count(a => a.TextContent.Contains("Started by an operator or administrator", StringComparison.Ordinal)));
    }

    [Fact]
    public void Recovery_Operator_ExampleIncidentTimeIsCurrent()
    {
        var page = RenderPage<RecoveryPage>(ConsoleRoles.Operator, interactive: true);

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("input[data-testid=incident-time]")));
        var example = page.Find("input[data-testid=incident-time]").GetAttribute("placeholder")!;
        Assert.StartsWith(DateTimeOffset.UtcNow.AddHours(-1).UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), example);
        Assert.Empty(page.FindAll("[data-testid=viewer-note]"));
    }
}
