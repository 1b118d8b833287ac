using HelloJohn.Console.Core.Runs;
using AngleSharp.Dom;
using Bunit;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Restores;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The Restores page on the real services: a run's details show its own error, and a link's malformed
/// parameter is answered with a message.</summary>
[Trait("Capability", "Restore")]
[Collection(PostgresCollection.Name)]
public sealed class RestoresPageTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    [Fact]
    public async Task ExpandedRuns_SucceededShowsNoAlert_FailedShowsItsOwnMessage()
    {
        var error = $"The restore failed: PostgreSQL refused: relation \"app_user\" already exists (42P07). restore_{Guid.NewGuid():N} was not touched.";
        var succeeded = await RunAsync(RestoreStatus.Succeeded, null);
        var failed = await RunAsync(RestoreStatus.Failed, error);
        var page = RenderPage<Web.Components.Pages.Restores>(ConsoleRoles.Viewer);

        Expand(page, succeeded);
        Expand(page, failed);

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=restore-details]").Count));
        var alert = Assert.Single(page.FindAll("[data-testid=restore-run-error]"));
        Assert.Equal(error, alert.TextContent.Trim());
        Assert.DoesNotContain("context.Item.Error", page.Markup, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("00000000-0000-0000-0000-00000000000Z")]
    public void Link_WithAMalformedBackup_SaysSoAndShowsThePage(string backup)
    {
        var page = RenderPage<Web.Components.Pages.Restores>(ConsoleRoles.Operator, interactive: true, uri: "/restores?backup=" + Uri.EscapeDataString(backup));

        page.WaitForAssertion(() => Assert.Contains($"The link asks for the backup \"{backup}\", which is not a backup id; it was ignored.", page.Find("[data-testid=restore-error]").TextContent));
        Assert.NotNull(page.Find("[data-testid=restores-grid]"));
    }

    [Fact]
    public async Task RestoreDialog_ForARebuiltTargetsBackup_OpensSayingTheTargetNeedsAConnectionAndAsksForAServer()
    {
        var (id, fileName, targetName) = await App.RebuiltTargetBackupAsync();

        var page = RenderPage<Web.Components.Pages.Restores>(ConsoleRoles.Admin, interactive: true, uri: "/restores?backup=" + id);

        page.WaitForAssertion(() =>
        {
            var alert = page.Find("[data-testid=target-needs-connection]").TextContent;
            Assert.Contains(targetName, alert);
            Assert.Contains("has no connection", alert);
        });
        Assert.Contains(fileName, page.Find("[data-testid=restore-backup]").Closest(".mud-input-control")!.TextContent);
        Assert.NotNull(page.Find("[data-testid=restore-server]"));
        Assert.Empty(page.FindAll("[data-testid=mode-in-place]"));
        Assert.Empty(page.FindAll("[data-testid=restore-error]"));
        Assert.NotNull(page.Find("[data-testid=restores-grid]"));
    }

    private static void Expand(IRenderedComponent<IComponent> page, string database)
    {
        IElement Row() => page.FindAll("[data-testid=restores-grid] tbody tr").First(r => r.TextContent.Contains(database, StringComparison.Ordinal));
        page.WaitForAssertion(() => Row().QuerySelector("button")!.Click());
    }

    /// <summary>A finished restore run in the catalog; returns its database's name.</summary>
    private async Task<string> RunAsync(RestoreStatus status, string? error)
    {
        var name = $"restore_{Guid.NewGuid():N}"[..24];
        await using var db = await App.DbAsync();
        var at = DateTimeOffset.UtcNow;
        var id = Guid.NewGuid();
        db.Add(RunFixtures.Ended(RunKind.Restore, App.TargetId, id, (RunStatus)status, at, at, at.AddSeconds(3), error));
        db.Add(new RestoreRun
        {
            Id = id,
            BackupFileName = $"hellojohn_{at:yyyyMMdd_HHmmss}.dump",
            Mode = RestoreMode.NewDatabase,
            DatabaseName = name,
            Jobs = 1,
        });
        await db.SaveChangesAsync();
        return name;
    }
}
