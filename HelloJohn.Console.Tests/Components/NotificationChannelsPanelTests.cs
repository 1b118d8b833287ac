using AngleSharp.Dom;
using Bunit;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Notifications;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Tests.Components;

/// <summary>Settings → Notifications on the real services: an administrator adds a Slack channel, tests it against a
/// receiver on loopback, changes it without re-entering its URL, sees a bad one refused, and removes it. The URL is
/// never on the page.</summary>
[Trait("Capability", "Notifications")]
[Collection(PostgresCollection.Name)]
public sealed class NotificationChannelsPanelTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    private static IElement RowOf(IRenderedComponent<IComponent> page, string name) =>
        page.FindAll("[data-testid=channel-row]").Single(r => r.TextContent.Contains(name, StringComparison.Ordinal));

    private static void Fill(IRenderedComponent<IComponent> page, string testId, string value) =>
        page.WaitForElement($"input[data-testid={testId}]").Input(value);

    private static void Save(IRenderedComponent<IComponent> page)
    {
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=save-channel]").HasAttribute("disabled")));
        page.Find("[data-testid=save-channel]").Click();
    }

    [Fact]
    public async Task Channel_AddedTestedChangedAndRemoved_FromTheSettingsPage()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var name = "ops-" + Guid.NewGuid().ToString("N")[..6];
        var secretPath = $"/slack/T1/{Guid.NewGuid():N}";
        var page = RenderPage<Web.Components.Pages.Settings>(ConsoleRoles.Admin, interactive: true);

        page.WaitForElement("[data-testid=add-channel]").Click();
        Fill(page, "channel-name", name);
        Fill(page, "channel-url", "hooks.example.test/no-scheme");
        Save(page);
        page.WaitForAssertion(() => Assert.Contains("URL must be an absolute", page.Find("[data-testid=channel-error]").TextContent));
        Assert.DoesNotContain(page.FindAll("[data-testid=channel-row]"), r => r.TextContent.Contains(name, StringComparison.Ordinal));

        Fill(page, "channel-url", receiver.Url(secretPath));
        Save(page);
        page.WaitForAssertion(() => Assert.Contains($"Added '{name}'", page.Find("[data-testid=channel-message]").TextContent));
        Assert.Contains($"{receiver.BaseAddress.Scheme}://{receiver.BaseAddress.Authority}/…", RowOf(page, name).TextContent);

        RowOf(page, name).QuerySelector("[data-testid=send-test]")!.Click();
        page.WaitForAssertion(() => Assert.Contains($"Test sent to '{name}'", page.Find("[data-testid=channel-message]").TextContent), TimeSpan.FromSeconds(30));
        Assert.Single(receiver.At(secretPath));
        page.WaitForAssertion(() => Assert.Contains("delivered", RowOf(page, name).QuerySelector("[data-testid=channel-last]")!.TextContent));
        Assert.Contains(page.FindAll("[data-testid=delivery-row]"), r => r.TextContent.Contains("test", StringComparison.Ordinal) && r.TextContent.Contains("delivered", StringComparison.Ordinal));

        // Changing the name keeps the stored URL: the field is left empty and the secret never comes back to the page.
        RowOf(page, name).QuerySelector("[data-testid=edit-channel]")!.Click();
        Assert.Equal("", page.WaitForElement("input[data-testid=channel-url]").GetAttribute("value") ?? "");
        Fill(page, "channel-name", name + "-renamed");
        Save(page);
        page.WaitForAssertion(() => Assert.Contains($"Saved '{name}-renamed'", page.Find("[data-testid=channel-message]").TextContent));
        var channel = (await Service<NotificationChannelService>().ListAsync(Actor.System, CancellationToken.None)).Single(c => c.Name == name + "-renamed");
        Assert.True((await Service<NotificationChannelService>().SendTestAsync(Actor.System, channel.Id, CancellationToken.None)).Succeeded);
        Assert.Equal(2, receiver.At(secretPath).Count);
        Assert.DoesNotContain(secretPath, page.Markup, StringComparison.Ordinal);

        RowOf(page, name + "-renamed").QuerySelector("[data-testid=delete-channel]")!.Click();
        Confirm(page, "Remove");
        page.WaitForAssertion(() => Assert.DoesNotContain(page.FindAll("[data-testid=channel-row]"), r => r.TextContent.Contains(name, StringComparison.Ordinal)));
    }
}
