using Bunit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The Backups page opened from a notification's link (<c>/backups?backup={id}</c>) on the real services: it
/// shows that one backup under All backup files; a link to a backup that is gone, or that is no id, says so and shows
/// every backup.</summary>
[Trait("Capability", "Notifications")]
[Collection(PostgresCollection.Name)]
public sealed class BackupsPageLinkTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    private IRenderedComponent<IComponent> Open(string uri) =>
        RenderPage<Web.Components.Pages.Backups>(ConsoleRoles.Viewer, interactive: true, uri: uri);

    private static List<string> Files(IRenderedComponent<IComponent> page) =>
        [.. page.FindAll("[data-testid=backups-grid] tbody tr td.file").Select(c => c.TextContent.Trim())];

    [Fact]
    public async Task LinkToOneBackup_ShowsOnlyThatBackup_AndShowAllLeadsBack()
    {
        var (first, firstFile) = await App.BackUpAsync();
        var (_, secondFile) = await App.BackUpAsync();

        var page = Open($"/backups?backup={first}");

        page.WaitForAssertion(() => Assert.Equal([Path.GetFileName(firstFile)], Files(page)));
        Assert.Contains($"Showing one backup: {Path.GetFileName(firstFile)}", page.Find("[data-testid=backups-filter]").TextContent);
        Assert.Equal("/backups", page.Find("[data-testid=backups-show-all]").GetAttribute("href"));

        Context.Services.GetRequiredService<NavigationManager>().NavigateTo("/backups");
        page.WaitForAssertion(() => Assert.Contains(Path.GetFileName(secondFile), Files(page)));
        Assert.Contains(Path.GetFileName(firstFile), Files(page));
        Assert.Empty(page.FindAll("[data-testid=backups-filter]"));
    }

    [Fact]
    public async Task LinkToABackupThatIsGone_SaysSoAndShowsEveryBackup()
    {
        var (_, file) = await App.BackUpAsync();

        var page = Open($"/backups?backup={Guid.NewGuid()}");

        page.WaitForAssertion(() => Assert.Contains("no longer in the catalog", page.Find("[data-testid=backups-filter]").TextContent));
        page.FindAll(".mud-tab").Single(t => t.TextContent.Contains("All backup files", StringComparison.Ordinal)).Click();
        page.WaitForAssertion(() => Assert.Contains(Path.GetFileName(file), Files(page)));
    }

    [Fact]
    public void LinkWithNoBackupId_SaysItWasIgnored()
    {
        var page = Open("/backups?backup=not-an-id");

        page.WaitForAssertion(() => Assert.Contains("not a backup id", page.Find("[data-testid=backups-error]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=backups-filter]"));
    }
}
