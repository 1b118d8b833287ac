using AngleSharp.Dom;
using Bunit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The Verification page on the real services: the backup picker follows the catalog while the page is open,
/// and a running verification can be cancelled by whoever may verify.</summary>
[Trait("Capability", "Verification")]
[Collection(PostgresCollection.Name)]
public sealed class VerificationPageTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    private IRenderedComponent<IComponent> Open(string role)
    {
        return RenderPage<Web.Components.Pages.Verification>(role, interactive: true);
    }

    /// <summary>Opens the backup picker as a person does, checks what it offers (waiting for the page to re-read the
    /// catalog), and closes it again.</summary>
    private static void PickerOffers(IRenderedComponent<IComponent> page, Action<IReadOnlyList<string>> check)
    {
        // The page re-renders as runs progress; an element of an older render is found again.
        void Toggle() => page.WaitForAssertion(() => page.Find("[data-testid=verify-backup]").Closest(".mud-input-control")!.MouseDown());
        Toggle();
        page.WaitForAssertion(() => check(page.FindAll(".mud-popover-open .mud-list-item").Select(i => i.TextContent.Trim()).ToList()));
        Toggle();
    }

    /// <summary>A real backup of the demo database: its id and file name.</summary>
    private async Task<(Guid Id, string FileName)> BackUpAsync()
    {
        var (id, path) = await App.BackUpAsync();
        return (id, Path.GetFileName(path));
    }

    private async Task ExpireAsync(Guid backupId)
    {
        await using var db = await App.DbAsync();
        await db.Backups.Where(b => b.Id == backupId).ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BackupStatus.Expired));
    }

    [Fact]
    public async Task Page_WithARebuiltTargetsBackupSelected_SaysTheTargetNeedsAConnectionAndStillOffersVerify()
    {
        var (id, _, targetName) = await App.RebuiltTargetBackupAsync();

        var page = RenderPage<Web.Components.Pages.Verification>(ConsoleRoles.Operator, interactive: true, uri: "/verification?backup=" + id);

        page.WaitForAssertion(() =>
        {
            var alert = page.Find("[data-testid=verify-target-needs-connection]").TextContent;
            Assert.Contains(targetName, alert);
            Assert.Contains("has no connection", alert);
            Assert.Contains("Settings → Targets", alert);
        });
        Assert.False(page.Find("[data-testid=verify-now]").HasAttribute("disabled"));
        Assert.Empty(page.FindAll("[data-testid=verify-error]"));
        Assert.NotNull(page.Find("[data-testid=verifications-grid]"));
    }

    [Fact]
    public async Task Picker_OpenedAfterTheCatalogChanged_OffersTheNewBackupAndNoLongerTheExpiredOne()
    {
        var (older, olderFile) = await BackUpAsync();
        var page = Open(ConsoleRoles.Operator);
        PickerOffers(page, offered => Assert.Contains(offered, o => o.StartsWith(olderFile, StringComparison.Ordinal)));

        // While the page stays open, a new backup finishes and retention expires the older one.
        var (_, newerFile) = await BackUpAsync();
        await ExpireAsync(older);

        PickerOffers(page, offered =>
        {
            Assert.Contains(offered, o => o.StartsWith(newerFile, StringComparison.Ordinal));
            Assert.DoesNotContain(offered, o => o.StartsWith(olderFile, StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task VerifyNow_OnABackupThatExpiredMeanwhile_SaysSoStartsNothingAndOffersWhatIsLeft()
    {
        var (doomed, doomedFile) = await BackUpAsync();
        var page = Open(ConsoleRoles.Operator);
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=verify-now]").HasAttribute("disabled")));
        await ExpireAsync(doomed);

        page.Find("[data-testid=verify-now]").Click();

        page.WaitForAssertion(() => Assert.Contains($"{doomedFile} is expired", page.Find("[data-testid=verify-error]").TextContent));
        Assert.Contains("Nothing was started", page.Find("[data-testid=verify-error]").TextContent);
        // The picker no longer holds it: it was read again after the refusal.
        page.WaitForAssertion(() => Assert.All(page.FindAll("[data-testid=verify-backup]"),
            e => Assert.DoesNotContain(doomedFile, (e.GetAttribute("value") ?? "") + e.TextContent, StringComparison.Ordinal)));
        await using var db = await App.DbAsync();
        Assert.False(await db.Set<VerificationRun>().AnyAsync(r => r.BackupId == doomed));
    }

    [Theory]
    [InlineData(ConsoleRoles.Operator)]
    [InlineData(ConsoleRoles.Viewer)]
    public async Task CancelButton_OnAQueuedRun_CancelsItForAnOperatorAndIsNotShownToAViewer(string role)
    {
        var (backupId, file) = await BackUpAsync();
        var runId = await App.QueuedVerificationAsync(backupId);

        var page = Open(role);
        if (role == ConsoleRoles.Viewer)
        {
            page.WaitForAssertion(() => Assert.Contains(file, page.Find("[data-testid=verifications-grid]").TextContent));
            Assert.Empty(page.FindAll("[data-testid=cancel-verification]"));
            Assert.Empty(page.FindAll("[data-testid=verify-now]"));
            return;
        }

        // Other tests of this class leave runs too: this run's own row.
        IElement Row() => page.FindAll("[data-testid=verifications-grid] tbody tr").First(r => r.TextContent.Contains(file, StringComparison.Ordinal));
        // The grid re-renders while runs are active; a click on an element of an older render is retried.
        page.WaitForAssertion(() => Row().QuerySelector("[data-testid=cancel-verification]")!.Click());

        page.WaitForAssertion(() => Assert.Null(Row().QuerySelector("[data-testid=cancel-verification]")));
        Assert.Contains("cancelled", Row().TextContent);
        Assert.Equal(VerificationStatus.Cancelled, (await Service<VerificationService>().GetAsync(runId, CancellationToken.None))!.Run.Status);
    }
}
