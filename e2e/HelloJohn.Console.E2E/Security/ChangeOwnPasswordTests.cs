using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Security;

/// <summary>A person signs in for the first time with the password an administrator chose, must replace it before
/// anything else, and later changes their own from the app bar.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class ChangeOwnPasswordTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task FirstSignIn_WithAnAdministratorsPassword_MustReplaceItThenChangesItFromTheAppBar()
    {
        var email = $"changer-{Guid.NewGuid():N}"[..16] + "@example.test";
        var handedOver = $"First-{Guid.NewGuid():N}"[..18] + "-Aa1";
        var own = $"Own-{Guid.NewGuid():N}"[..18] + "-Aa1";
        var later = $"Later-{Guid.NewGuid():N}"[..18] + "-Aa1";
        var adminPage = await server.NewPageAsync();
        await new ConsoleApp(adminPage).SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        var users = new UsersPage(adminPage);
        await users.OpenAsync();
        await users.CreateAsync(email, "Casey Changer", "Viewer", handedOver);
        await Assertions.Expect(users.Row(email).GetByTestId("user-sign-in")).ToContainTextAsync("must choose a password");
        await adminPage.Context.CloseAsync();

        var app = new ConsoleApp(await server.NewPageAsync());
        var page = app.Page;
        await app.SubmitSignInAsync(email, handedOver);
        await Assertions.Expect(page.GetByTestId("password-first-change")).ToBeVisibleAsync();
        await server.ScreenshotAsync(page, "first-sign-in-password");

        // Nothing else opens before the password is replaced.
        await page.GotoAsync("/backups");
        await Assertions.Expect(page.GetByTestId("password-first-change")).ToBeVisibleAsync();

        await app.ChangePasswordAsync(handedOver, own, own + "x");
        await Assertions.Expect(page.GetByTestId("password-error")).ToContainTextAsync("The two new passwords differ");
        await server.ScreenshotAsync(page, "change-password-mismatch");
        await app.ChangePasswordAsync(handedOver, own);
        await app.WaitUntilLiveAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();

        await page.GetByTestId("change-password").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Change your password" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("password-first-change")).ToHaveCountAsync(0);
        await app.ChangePasswordAsync(own, later);
        await Assertions.Expect(page.GetByTestId("password-changed")).ToBeVisibleAsync();
        await server.ScreenshotAsync(page, "change-password-done");

        // This session goes on.
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the console" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToContainTextAsync(email);

        var again = new ConsoleApp(await server.NewPageAsync());
        await again.SignInAsync(email, later);
        await Assertions.Expect(again.Page.GetByTestId("signed-in-as")).ToContainTextAsync("Viewer");
    }
}
