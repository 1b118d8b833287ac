using Bunit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Security.ApiTokens;
using HelloJohn.Console.Tests.Infrastructure;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The API tokens page on the real services: a Viewer creates a token (shown once), sees it listed by its
/// prefix, and revokes it.</summary>
[Trait("Capability", "Api")]
[Collection(PostgresCollection.Name)]
public sealed class ApiTokensPageTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    [Fact]
    public async Task Token_CreatedShownOnceListedAndRevoked()
    {
        var email = $"viewer-{Guid.NewGuid():N}"[..20] + "@example.test";
        var userId = await Service<UserAdministrationService>().CreateAsync(Actor.System, new NewConsoleUser(email, null, ConsoleRoles.Viewer, "Viewer-Pa55word!"), CancellationToken.None);
        var page = RenderPage<Web.Components.Account.ApiTokens>(ConsoleRoles.Viewer, email, interactive: true, userId: userId);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=no-tokens]")));
        Assert.Equal("Viewer", page.Find("[data-testid=token-role]").TextContent);

        page.Find("input[data-testid=token-name]").Input("export script");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=create-token]").HasAttribute("disabled")));
        page.Find("[data-testid=create-token]").Click();
        var token = "";
        page.WaitForAssertion(() => token = page.Find("input[data-testid=token-value]").GetAttribute("value")!);
        Assert.True(ApiTokenFormat.LooksLikeToken(token));
        var row = page.WaitForElement("[data-testid=token-row]");
        Assert.Contains(ApiTokenFormat.PrefixOf(token) + "…", row.TextContent);
        Assert.Equal("active", row.QuerySelector("[data-testid=token-status]")!.TextContent);
        Assert.True((await Service<ApiTokenService>().CheckAsync(token, "test", CancellationToken.None)).Succeeded);

        // Kept only as a hash: nothing the console can list gives the token back.
        Assert.DoesNotContain(token, System.Text.Json.JsonSerializer.Serialize(await Service<ApiTokenService>().ListMineAsync(new Actor(userId, email, [ConsoleRoles.Viewer]), CancellationToken.None)), StringComparison.Ordinal);

        page.Find("[data-testid=revoke-token]").Click();
        Confirm(page, "Revoke");
        page.WaitForAssertion(() => Assert.Equal("revoked", page.Find("[data-testid=token-status]").TextContent));
        Assert.DoesNotContain(token, page.Markup, StringComparison.Ordinal);
        Assert.Equal("the token was revoked", (await Service<ApiTokenService>().CheckAsync(token, "test", CancellationToken.None)).Refusal);
    }
}
