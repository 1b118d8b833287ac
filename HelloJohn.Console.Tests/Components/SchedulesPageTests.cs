using System.Text.RegularExpressions;
using Bunit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using SchedulesPage = HelloJohn.Console.Web.Components.Pages.Schedules;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The Schedules &amp; retention page on the real schedule, retention and backup services (Hangfire on
/// PostgreSQL): the editor previews as you type and refuses what the service refuses, and buttons follow the role.</summary>
[Trait("Capability", "Schedules")]
[Collection(PostgresCollection.Name)]
public sealed class SchedulesPageTests : ConsolePageTest, IClassFixture<ConsolePageFixture>
{
    private const string ZoneModule = "./Components/Pages/Schedules.razor.js";

    public SchedulesPageTests(ConsolePageFixture app) : base(app)
    {
        // A zone without daylight saving, half an hour off UTC, so "your time" and UTC can never be confused.
        Context.JSInterop.SetupModule(ZoneModule).Setup<string?>("timeZone").SetResult("Asia/Kolkata");
    }

    private string BackupScheduleId => ScheduleService.JobId(ScheduleKind.Backup, App.TargetId);

    private async Task<ScheduleView> BackupScheduleAsync() =>
        (await Service<ScheduleService>().ListAsync(App.TargetId, CancellationToken.None)).Single(s => s.Kind == ScheduleKind.Backup);

    private IRenderedComponent<IComponent> OpenEditor()
    {
        var page = RenderPage<SchedulesPage>(ConsoleRoles.Admin);
        page.WaitForAssertion(() => page.Find("[data-testid=schedule-Backup] [data-testid=edit-schedule]").Click());
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=schedule-editor]")));
        return page;
    }

    private static void TypeCron(IRenderedComponent<IComponent> page, string cron) => page.WaitForElement("input[data-testid=cron-input]").Input(cron);

    [Fact]
    public void Editor_ValidCron_PreviewsTheNextFiveRunsInTheReadersZoneAndUtcAsYouType()
    {
        var page = OpenEditor();

        TypeCron(page, "30 4 * * 1");

        page.WaitForAssertion(() =>
        {
            var runs = page.FindAll("[data-testid=cron-preview] [data-testid=occurrence]");
            Assert.Equal(5, runs.Count);
            // 04:30 UTC every Monday is 10:00 in Kolkata (UTC+05:30).
            Assert.All(runs, r => Assert.Matches(@"^Mon \d{4}-\d\d-\d\d 10:00 · Mon \d{4}-\d\d-\d\d 04:30 UTC$", Regex.Replace(r.TextContent, @"\s+", " ").Trim()));
        });
        Assert.Empty(page.FindAll("[data-testid=cron-error]"));
        Assert.False(page.WaitForElement("[data-testid=save-schedule]").HasAttribute("disabled"));
    }

    [Fact]
    public void Editor_BackupEveryMinute_WarnsWithTheNumbersAndStillLetsItBeSaved()
    {
        var page = OpenEditor();

        TypeCron(page, "* * * * *");

        page.WaitForAssertion(() => Assert.Contains("starts a backup as often as every 1 minute", page.Find("[data-testid=cron-warning]").TextContent));
        Assert.False(page.WaitForElement("[data-testid=save-schedule]").HasAttribute("disabled"));
        TypeCron(page, "0 2 * * *");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=cron-warning]")));
    }

    [Theory]
    [InlineData("0 2 * *", "Etc/UTC")]
    [InlineData("0 2 30 2 *", "Etc/UTC")]
    [InlineData("61 2 * * *", "Etc/UTC")]
    [InlineData("0 2 * * *", "Mars/Olympus_Mons")]
    public async Task Editor_InvalidInput_ShowsTheServicesMessageAndCannotBeSaved(string cron, string zone)
    {
        var before = await BackupScheduleAsync();
        var expected = Service<ScheduleService>().Preview(cron, zone).Error;
        var page = OpenEditor();

        TypeCron(page, cron);
        page.WaitForElement("input[data-testid=zone-input]").Input(zone);

        page.WaitForAssertion(() => Assert.Equal(expected, page.Find("[data-testid=cron-error]").TextContent.Trim()));
        Assert.NotNull(expected);
        Assert.Empty(page.FindAll("[data-testid=cron-preview]"));
        Assert.True(page.WaitForElement("[data-testid=save-schedule]").HasAttribute("disabled"));
        page.WaitForElement("[data-testid=save-schedule]").Click();
        var after = await BackupScheduleAsync();
        Assert.Equal((before.Cron, before.TimeZone, before.UpdatedAt), (after.Cron, after.TimeZone, after.UpdatedAt));
    }

    [Fact]
    public async Task Editor_Save_StoresTheScheduleAndTheTableShowsIt()
    {
        var page = OpenEditor();

        TypeCron(page, "15 1 * * *");
        page.WaitForElement("[data-testid=save-schedule]").Click();

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=schedule-editor]")));
        Assert.Equal("15 1 * * *", page.WaitForElement("[data-testid=schedule-Backup] [data-testid=schedule-cron]").TextContent);
        var saved = await BackupScheduleAsync();
        Assert.Equal("15 1 * * *", saved.Cron);
        Assert.Equal(BackupScheduleId, saved.Id);
    }

    [Fact]
    public async Task PauseAndResume_ChangeTheStateShownAndStored()
    {
        var page = RenderPage<SchedulesPage>(ConsoleRoles.Admin);
        var row = "[data-testid=schedule-Verification]";

        page.WaitForAssertion(() => page.Find($"{row} [data-testid=pause-schedule]").Click());
        page.WaitForAssertion(() => Assert.Equal("paused", page.Find($"{row} [data-testid=schedule-state]").TextContent.Trim()));
        Assert.True((await Service<ScheduleService>().ListAsync(App.TargetId, CancellationToken.None)).Single(s => s.Kind == ScheduleKind.Verification).Paused);

        page.WaitForElement($"{row} [data-testid=resume-schedule]").Click();
        page.WaitForAssertion(() => Assert.Equal("active", page.Find($"{row} [data-testid=schedule-state]").TextContent.Trim()));
        Assert.False((await Service<ScheduleService>().ListAsync(App.TargetId, CancellationToken.None)).Single(s => s.Kind == ScheduleKind.Verification).Paused);
    }

    [Theory]
    [InlineData(ConsoleRoles.Admin, true)]
    [InlineData(ConsoleRoles.Operator, false)]
    [InlineData(ConsoleRoles.Viewer, false)]
    public async Task Render_ByRole_ShowsEditingRunAndRetentionButtonsOnlyToAdmins(string role, bool admin)
    {
        await InsertSucceededBackupAsync();
        var page = RenderPage<SchedulesPage>(role);

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=retention-row]")));
        // Backup, verification, retention and the recovery drill (no JWKS check: this target has no HelloJohn URL).
        Assert.Equal(4, page.FindAll("[data-testid=schedules] tbody tr").Count);
        Assert.Contains("Recovery drill", page.Find("[data-testid=schedules]").TextContent);
        Assert.Equal(admin, page.FindAll("[data-testid=edit-schedule]").Count == 4);
        Assert.Equal(admin ? 4 : 0, page.FindAll("[data-testid=run-now]").Count);
        Assert.Equal(admin ? 4 : 0, page.FindAll("[data-testid=pause-schedule]").Count + page.FindAll("[data-testid=resume-schedule]").Count);
        Assert.Equal(admin, page.FindAll("[data-testid=apply-retention]").Count == 1);
        Assert.Equal(admin, page.FindAll("[data-testid=pin]").Count > 0);
    }

    [Fact]
    public async Task RetentionPlan_ShowsEveryBackupWithItsVerdictAndPinningKeepsIt()
    {
        var id = await InsertSucceededBackupAsync();
        var page = RenderPage<SchedulesPage>(ConsoleRoles.Admin);
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=retention-row]")));

        var plan = await Service<RetentionService>().PreviewAsync(App.TargetId, CancellationToken.None);
        Assert.Equal(plan.Decisions.Count, page.FindAll("[data-testid=retention-row]").Count);
        var fileName = plan.For(id).FileName!;
        var rowOf = page.FindAll("[data-testid=retention-row]").Single(r => r.TextContent.Contains(fileName, StringComparison.Ordinal));
        Assert.Contains(plan.For(id).Explanation, rowOf.TextContent);

        rowOf.QuerySelector("input[data-testid=pin]")!.Change(true);

        page.WaitForAssertion(() => Assert.Contains("pinned", page.FindAll("[data-testid=retention-row]").Single(r => r.TextContent.Contains(fileName, StringComparison.Ordinal)).TextContent));
        await using var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.True((await db.Backups.SingleAsync(b => b.Id == id)).Pinned);
        Assert.True((await Service<RetentionService>().PreviewAsync(App.TargetId, CancellationToken.None)).For(id).Reasons.HasFlag(RetentionReasons.Pinned));
    }

    /// <summary>A finished backup in the catalog (retention plans from the catalog alone; no file is needed to plan).</summary>
    private async Task<Guid> InsertSucceededBackupAsync()
    {
        await using var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var at = DateTimeOffset.UtcNow.AddMinutes(-Random.Shared.Next(1, 100_000));
        var record = new BackupRecord
        {
            Id = Guid.NewGuid(),
            TargetId = App.TargetId,
            FileName = BackupNaming.FileNameFor(at, Guid.NewGuid().ToString("N")[..6]),
            Status = BackupStatus.Succeeded,
            CreatedAt = at,
            StartedAt = at,
            FinishedAt = at.AddSeconds(3),
            SizeBytes = 1234,
            BytesWritten = 1234,
            Sha256 = new string('a', 64),
        };
        db.Backups.Add(record);
        await db.SaveChangesAsync();
        return record.Id;
    }
}
