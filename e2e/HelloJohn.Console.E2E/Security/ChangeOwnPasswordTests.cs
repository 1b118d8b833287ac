using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Security;

/// <summary>A person changes their own password from the app bar and signs in with the new one.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class ChangeOwnPasswordTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task ChangePassword_FromTheAppBar_RefusesAMismatchThenChangesItAndTheNewOneSignsIn()
    {
        var email = $"changer-{Guid.NewGuid():N}"[..16] + "@example.test";
        var first = $"First-{Guid.NewGuid():N}"[..18] + "-Aa1";
        var second = $"Second-{Guid.NewGuid():N}"[..18] + "-Aa1";
        var adminPage = await server.NewPageAsync();
        await new ConsoleApp(adminPage).SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        var users = new UsersPage(adminPage);
        await users.OpenAsync();
        await users.CreateAsync(email, "Casey Changer", "Viewer", first);
        await adminPage.Context.CloseAsync();

        var app = new ConsoleApp(await server.NewPageAsync());
        var page = app.Page;
        await app.SignInAsync(email, first);
        await page.GetByTestId("change-password").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Change your password" })).ToBeVisibleAsync();

        await page.GetByLabel("Current password").FillAsync(first);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(second);
        await page.GetByLabel("New password again").FillAsync(second + "x");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("password-error")).ToContainTextAsync("The two new passwords differ");
        await server.ScreenshotAsync(page, "change-password-mismatch");

        await page.GetByLabel("Current password").FillAsync(first);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(second);
        await page.GetByLabel("New password again").FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("password-changed")).ToBeVisibleAsync();
        await server.ScreenshotAsync(page, "change-password-done");

        // This session goes on.
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the console" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToContainTextAsync(email);

        var again = new ConsoleApp(await server.NewPageAsync());
        await again.SignInAsync(email, second);
        await Assertions.Expect(again.Page.GetByTestId("signed-in-as")).ToContainTextAsync("Viewer");
    }
}
