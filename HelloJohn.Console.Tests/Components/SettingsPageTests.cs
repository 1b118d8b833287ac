using AngleSharp.Dom;
using Bunit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Components;

/// <summary>Settings on the real services: an administrator gives a target re-created by a catalog rebuild its
/// connection back; a bad one is refused with the reason and the target stays as it was.</summary>
[Trait("Capability", "Storage")]
[Collection(PostgresCollection.Name)]
public sealed class SettingsPageTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    private async Task<string> RebuiltTargetAsync()
    {
        await using var db = await App.DbAsync();
        var name = "rebuilt-" + Guid.NewGuid().ToString("N")[..6];
        db.Targets.Add(new BackupTarget { Id = Guid.NewGuid(), Name = name, ConnectionSource = TargetConnectionSource.Unset, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return name;
    }

    private static IElement RowOf(IRenderedComponent<IComponent> page, string name) =>
        page.FindAll("[data-testid=settings-targets] tbody tr").First(r => r.TextContent.Contains(name, StringComparison.Ordinal));

    private static void Enter(IRenderedComponent<IComponent> page, string name, string connection)
    {
        page.WaitForAssertion(() => RowOf(page, name).QuerySelector("[data-testid=set-connection]")!.Click());
        page.WaitForElement("input[data-testid=connection-input]").Input(connection);
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=save-connection]").HasAttribute("disabled")));
        page.Find("[data-testid=save-connection]").Click();
    }

    [Fact]
    public async Task SetConnection_BadThenGood_RefusesTheFirstAndStoresTheSecond()
    {
        var name = await RebuiltTargetAsync();
        var page = RenderPage<Web.Components.Pages.Settings>(ConsoleRoles.Admin, interactive: true);
        page.WaitForAssertion(() => Assert.NotNull(RowOf(page, name).QuerySelector("[data-testid=target-unset]")));
        // The target from HELLOJOHN_DATABASE_URL follows its variable: no button.
        Assert.Null(RowOf(page, "test").QuerySelector("[data-testid=set-connection]"));

        Enter(page, name, "postgres://someone:Not-Th3-Password@127.0.0.1:1/hellojohn");
        page.WaitForAssertion(() => Assert.Contains("could not reach", page.Find("[data-testid=connection-error]").TextContent), TimeSpan.FromSeconds(30));
        // The masked field keeps what was typed, to be corrected; nothing else on the page shows it.
        Assert.DoesNotContain("Not-Th3-Password", page.Find("[data-testid=connection-error]").TextContent);
        Assert.Equal("password", page.Find("input[data-testid=connection-input]").GetAttribute("type"));
        Assert.NotNull(RowOf(page, name).QuerySelector("[data-testid=target-unset]"));

        page.Find("input[data-testid=connection-input]").Input(App.Postgres.Demo.ConnectionString);
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=save-connection]").HasAttribute("disabled")));
        page.Find("[data-testid=save-connection]").Click();

        page.WaitForAssertion(() => Assert.Contains("schedules stay paused", page.Find("[data-testid=connection-saved]").TextContent));
        Assert.Contains("stored, encrypted", RowOf(page, name).TextContent);
        Assert.DoesNotContain(App.Postgres.Demo.Password!, page.Markup);
        var saved = (await Service<TargetService>().ListAsync(CancellationToken.None)).Single(t => t.Name == name);
        Assert.Equal(TargetConnectionSource.Stored, saved.Source);
    }
}
