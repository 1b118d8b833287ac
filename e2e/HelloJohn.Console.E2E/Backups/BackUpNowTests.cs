using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Backups;

[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class BackUpNowTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task BackUpNow_OnEmbeddedDefault_SucceedsInTheGridWithRowCounts()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Backups");

        var fileName = await app.BackUpNowAndWaitAsync();
        var firstRow = app.BackupRow(fileName);
        await Assertions.Expect(firstRow).ToContainTextAsync(fileName);
        await Assertions.Expect(firstRow).ToContainTextAsync("manual");

        // Expanding the row shows the per-table counts taken in the dump's snapshot.
        await firstRow.GetByRole(AriaRole.Button).First.ClickAsync();
        var counts = app.Page.GetByTestId("row-counts");
        await Assertions.Expect(counts).ToContainTextAsync("hj_user");
        await Assertions.Expect(counts).ToContainTextAsync("5,000");
        await Assertions.Expect(counts).ToContainTextAsync("15,000");
        await server.ScreenshotAsync(app.Page, "backups-after-backup-now");

        await app.OpenAsync("Dashboard");
        await Assertions.Expect(app.Page.GetByTestId("last-backup")).ToContainTextAsync("hellojohn_");
        // The backup folder's free space, measured when the page opened.
        await Assertions.Expect(app.Page.GetByTestId("storage-free")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"^local: [\d.]+ [KMGT]?B free of [\d.]+ [KMGT]?B$"));
        await server.ScreenshotAsync(app.Page, "dashboard");
    }

    [Fact]
    public async Task Anonymous_OpeningBackups_IsSentToSignIn()
    {
        var page = await server.NewPageAsync();
        await page.GotoAsync("/backups");
        await page.WaitForURLAsync(url => url.Contains("/signin", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await server.ScreenshotAsync(page, "signin");
    }
}
