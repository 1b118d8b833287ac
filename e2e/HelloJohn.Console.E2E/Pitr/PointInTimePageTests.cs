using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Pitr;

[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class PointInTimePageTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task EmbeddedDefault_StreamsFromTheStart_AndAWindowAndRpoAreLive()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Point-in-time");

        var page = app.Page;
        var timeout = new LocatorAssertionsToContainTextOptions { Timeout = 120_000 };
        await Assertions.Expect(page.GetByTestId("pitr-receiver")).ToContainTextAsync("streaming", timeout);
        await Assertions.Expect(page.GetByTestId("pitr-base-backups")).ToContainTextAsync("succeeded", timeout);
        await Assertions.Expect(page.GetByTestId("pitr-current-window")).ToContainTextAsync("→", timeout);
        await Assertions.Expect(page.GetByTestId("pitr-readiness")).ToContainTextAsync("wal_level is replica");

        // A time without a zone is refused beside the form, and nothing is restored.
        await page.GetByLabel("Restore to (date and time)").FillAsync("2020-01-01 00:00:00");
        await page.GetByLabel("Time zone of that time").FillAsync("");
        await page.GetByLabel("New data directory").FillAsync("/var/tmp/hellojohn-e2e-never");
        await page.GetByTestId("pitr-restore-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("pitr-refusal")).ToContainTextAsync("time zone");
        await server.ScreenshotAsync(page, "pitr");

        await app.OpenAsync("Dashboard");
        await Assertions.Expect(page.GetByTestId("pitr-card")).ToContainTextAsync("window", timeout);
        await server.ScreenshotAsync(page, "dashboard-pitr");
    }
}
