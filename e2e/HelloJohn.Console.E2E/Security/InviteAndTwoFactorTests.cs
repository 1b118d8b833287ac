using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using HelloJohn.Console.Tests.Security;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Security;

/// <summary>An administrator invites someone by link; they choose their password with it, turn on two-factor sign-in
/// with their authenticator app, and from then on sign in with a code.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class InviteAndTwoFactorTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task InviteLink_ThenTwoFactor_SignInAsksForTheAppsCode()
    {
        var email = $"ivy-{Guid.NewGuid():N}"[..12] + "@example.test";
        var password = $"Ivy-{Guid.NewGuid():N}"[..18] + "-Aa1";
        var adminPage = await server.NewPageAsync();
        await new ConsoleApp(adminPage).SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        var users = new UsersPage(adminPage);
        await users.OpenAsync();
        var link = await users.InviteAsync(email, "Ivy Invited", "Operator", () => server.ScreenshotAsync(adminPage, "users-invite-link"));
        await adminPage.Context.CloseAsync();

        // The invited person opens the link in their own browser.
        var app = new ConsoleApp(await server.NewPageAsync());
        var page = app.Page;
        await page.GotoAsync(link);
        await Assertions.Expect(page.GetByTestId("invite-email")).ToHaveTextAsync(email);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(password);
        await page.GetByLabel("New password again").FillAsync(password);
        await server.ScreenshotAsync(page, "invite-accept");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set my password" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("invite-accepted")).ToBeVisibleAsync();
        await app.SignInAsync(email, password);

        // The link worked once.
        var reuse = await server.NewPageAsync();
        await reuse.GotoAsync(link);
        await Assertions.Expect(reuse.GetByTestId("invite-refused")).ToContainTextAsync("already used");
        await reuse.Context.CloseAsync();

        // Two-factor sign-in, set up from the key the page shows, as an authenticator app would read it.
        await page.GetByTestId("two-factor").ClickAsync();
        await Assertions.Expect(page.GetByTestId("two-factor-qr").Locator("svg")).ToBeVisibleAsync();
        var key = (await page.GetByTestId("shared-key").TextContentAsync())!;
        await server.ScreenshotAsync(page, "two-factor-setup");
        await page.GetByLabel("The 6-digit code the app shows").FillAsync(Totp.Code(key, DateTimeOffset.UtcNow));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on two-factor sign-in" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes").Locator("li")).ToHaveCountAsync(10);
        await server.ScreenshotAsync(page, "two-factor-recovery-codes");

        var next = new ConsoleApp(await server.NewPageAsync());
        await next.SubmitSignInAsync(email, password);
        await Assertions.Expect(next.Page.GetByLabel("Code from your authenticator app")).ToBeVisibleAsync();
        await server.ScreenshotAsync(next.Page, "two-factor-signin");
        var current = Totp.Code(key, DateTimeOffset.UtcNow);
        await next.Page.GetByLabel("Code from your authenticator app").FillAsync(current == "000000" ? "111111" : "000000");
        await next.Page.GetByRole(AriaRole.Button, new() { Name = "Verify and sign in" }).ClickAsync();
        await Assertions.Expect(next.Page.GetByTestId("two-factor-error")).ToContainTextAsync("That code is not right");
        await next.Page.GetByLabel("Code from your authenticator app").FillAsync(Totp.Code(key, DateTimeOffset.UtcNow));
        await next.Page.GetByRole(AriaRole.Button, new() { Name = "Verify and sign in" }).ClickAsync();
        await next.WaitUntilLiveAsync();
        await Assertions.Expect(next.Page.GetByTestId("signed-in-as")).ToContainTextAsync("Operator");
    }
}
