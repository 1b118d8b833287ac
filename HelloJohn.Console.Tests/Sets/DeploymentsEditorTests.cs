using AngleSharp.Dom;
using Bunit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Components;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>Settings → Deployments on the real services: an administrator tries a selection, sees what it would
/// protect, saves it; a selection of nothing is refused in words and nothing is added.</summary>
[Trait("Capability", "Sets")]
[Collection(PostgresCollection.Name)]
public sealed class DeploymentsEditorTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    private static IElement RowOf(IRenderedComponent<IComponent> page, string name) =>
        page.FindAll("[data-testid=deployment-row]").First(r => r.QuerySelector("[data-testid=deployment-name]")!.TextContent.Trim() == name);

    private static void Fill(IRenderedComponent<IComponent> page, string testId, string value) =>
        page.WaitForElement($"[data-testid={testId}] input, [data-testid={testId}] textarea, input[data-testid={testId}], textarea[data-testid={testId}]").Input(value);

    [Fact]
    public async Task AddDeployment_TryThenSave_ShowsWhatItProtectsAndListsIt()
    {
        var prefix = SetTestSupport.NewPrefix();
        await App.Postgres.CreateTenantAsync($"{prefix}_tenant_a", 20);
        await App.Postgres.CreateTenantAsync($"{prefix}_tenant_b", 20);
        var page = RenderPage<Web.Components.Pages.Settings>(ConsoleRoles.Admin, interactive: true);
        // The deployment from HELLOJOHN_DATABASE_URL follows its variables: it can be neither changed nor removed here.
        page.WaitForAssertion(() => Assert.Contains("hellojohn", RowOf(page, "test").TextContent));
        Assert.Null(RowOf(page, "test").QuerySelector("[data-testid=edit-deployment]"));
        Assert.Null(RowOf(page, "test").QuerySelector("[data-testid=remove-deployment]"));

        page.Find("[data-testid=add-deployment]").Click();
        Fill(page, "deployment-name", prefix);
        Fill(page, "deployment-connection", App.Postgres.ServerUrl());
        Fill(page, "deployment-patterns", $"{prefix}_nothing_*");
        page.Find("[data-testid=deployment-save]").Click();
        page.WaitForAssertion(() => Assert.Contains("selects no database", page.Find("[data-testid=deployment-error]").TextContent));
        Assert.DoesNotContain(PostgresClusterFixture.DemoPassword, page.Markup);
        Assert.DoesNotContain(prefix, (await Service<TargetService>().ListAsync(CancellationToken.None)).Select(t => t.Name));

        Fill(page, "deployment-patterns", $"{prefix}_tenant_*\n{prefix}_later_*");
        page.Find("[data-testid=deployment-try]").Click();
        // Largest first: the two tenants are of one size give or take a page, so their order is not asserted.
        page.WaitForAssertion(() =>
        {
            var preview = page.Find("[data-testid=deployment-preview]").TextContent;
            Assert.Contains("protects 2 databases", preview);
            Assert.Contains($"{prefix}_tenant_a", preview);
            Assert.Contains($"{prefix}_tenant_b", preview);
        });
        Assert.Contains($"{prefix}_later_*", page.Find("[data-testid=deployment-warning]").TextContent);

        page.Find("[data-testid=deployment-save]").Click();
        page.WaitForAssertion(() => Assert.Contains($"{prefix}_tenant_*", RowOf(page, prefix).QuerySelector("[data-testid=deployment-selection]")!.TextContent));
        Assert.Empty(page.FindAll("[data-testid=deployment-editor]"));
        Assert.Contains("stored, encrypted", RowOf(page, prefix).TextContent);
        Assert.DoesNotContain(PostgresClusterFixture.DemoPassword, page.Markup);

        RowOf(page, prefix).QuerySelector("[data-testid=remove-deployment]")!.Click();
        page.WaitForAssertion(() => Assert.True(page.Find("[data-testid=remove-deployment-confirm]").HasAttribute("disabled")));
        Fill(page, "remove-confirmation-input", prefix);
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=remove-deployment-confirm]").HasAttribute("disabled")));
        page.Find("[data-testid=remove-deployment-confirm]").Click();
        page.WaitForAssertion(() => Assert.DoesNotContain(page.FindAll("[data-testid=deployment-row]"), r => r.QuerySelector("[data-testid=deployment-name]")!.TextContent.Trim() == prefix));
    }
}
