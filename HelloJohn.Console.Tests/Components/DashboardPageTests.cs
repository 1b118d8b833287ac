using HelloJohn.Console.Core.Runs;
using System.Text.RegularExpressions;
using Bunit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using DashboardPage = HelloJohn.Console.Web.Components.Pages.Dashboard;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The Dashboard on the real catalog: an empty console says what to do first (in words for the reader's role),
/// a newest backup nobody verified is flagged, and RPO and sizes read as people read them.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class DashboardPageTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    [Theory]
    [InlineData(ConsoleRoles.Operator, "press Back up now for the first backup")]
    [InlineData(ConsoleRoles.Viewer, "ask an operator or an administrator")]
    public void EmptyConsole_SaysWhatToDoFirst(string role, string advice)
    {
        var page = RenderPage<DashboardPage>(role);

        page.WaitForAssertion(() => Assert.Contains(advice, page.Find("[data-testid=first-steps]").TextContent));
        Assert.Equal("no backup yet", page.Find("[data-testid=rpo-value]").TextContent.Trim());
        Assert.Equal("nothing stored", page.Find("[data-testid=storage-value]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=newest-unverified]"));
    }

    [Fact]
    public async Task NewestBackup_Unverified_IsFlaggedUntilAVerificationPasses()
    {
        var id = Guid.NewGuid();
        var started = DateTimeOffset.UtcNow.AddSeconds(-7);
        await using (var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            db.Backups.Add(new BackupRecord
            {
                Id = id, TargetId = App.TargetId, FileName = $"hellojohn_dash_{id:N}.dump.zst"[..40], Status = BackupStatus.Succeeded,
                CreatedAt = started, StartedAt = started, FinishedAt = started.AddSeconds(2), SizeBytes = 2_200_000,
            });
            await db.SaveChangesAsync();
        }

        try
        {
            var page = RenderPage<DashboardPage>(ConsoleRoles.Operator);
            page.WaitForAssertion(() => Assert.Contains("has not been verified", page.Find("[data-testid=newest-unverified]").TextContent));
            Assert.Equal($"/verification?backup={id}", page.Find("[data-testid=newest-unverified] a").GetAttribute("href"));
            Assert.Matches(new Regex(@"^\d+ s$"), page.Find("[data-testid=rpo-value]").TextContent.Trim());
            Assert.Equal("2.1 MB", page.Find("[data-testid=storage-value]").TextContent.Trim());
            Assert.Empty(page.FindAll("[data-testid=first-steps]"));

            await using (var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
            {
                var verificationId = Guid.NewGuid();
                db.Add(RunFixtures.Ended(RunKind.Verification, App.TargetId, verificationId, RunStatus.Succeeded, started.AddSeconds(3), started.AddSeconds(3), started.AddSeconds(5)));
                db.Set<VerificationRun>().Add(new VerificationRun { Id = verificationId, BackupId = id, BackupFileName = "x" });
                await db.SaveChangesAsync();
            }

            // A second visit, signed in as before.
            var again = Context.Render<DashboardPage>();
            again.WaitForAssertion(() => Assert.NotEmpty(again.FindAll("[data-testid=last-backup] b")));
            Assert.Empty(again.FindAll("[data-testid=newest-unverified]"));
        }
        finally
        {
            // The empty-console test shares this catalog.
            await using var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
            await db.Set<VerificationRun>().Where(v => v.BackupId == id).ExecuteDeleteAsync();
            await db.Backups.Where(b => b.Id == id).ExecuteDeleteAsync();
        }
    }
}
