using System.Text.RegularExpressions;
using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Backups;

/// <summary>The links notifications carry: a backup's and a set's own address open the Backups page showing only that
/// backup or set, and Show all brings every one back.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed partial class BackupLinkTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task LinksToOneBackupAndOneSet_ShowOnlyThem()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Backups");
        var first = await app.BackUpSetAndWaitAsync();
        var file = await app.BackUpNowAndWaitAsync();
        var page = app.Page;

        await app.BackupRow(file).GetByRole(AriaRole.Button).First.ClickAsync();
        await page.GetByTestId("backup-link").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(BackupLink());
        await Assertions.Expect(page.GetByTestId("backups-filter")).ToContainTextAsync($"Showing one backup: {file}");
        await Assertions.Expect(page.GetByTestId("backups-grid").GetByTestId("status")).ToHaveCountAsync(1);
        await server.ScreenshotAsync(page, "backups-one-backup");

        await page.GetByTestId("backups-show-all").ClickAsync();
        await Assertions.Expect(page.GetByTestId("backups-filter")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("backups-grid").GetByTestId("status")).Not.ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Tab, new() { Name = "Sets" }).ClickAsync();
        await app.ExpandSetAsync(first);
        await page.GetByTestId("set-link").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(SetLink());
        await Assertions.Expect(page.GetByTestId("backups-filter")).ToContainTextAsync($"Showing one set: {first}");
        await Assertions.Expect(page.GetByTestId("sets-grid").GetByTestId("set-status")).ToHaveCountAsync(1);
        await server.ScreenshotAsync(page, "backups-one-set");
    }

    [GeneratedRegex(@"/backups\?backup=[0-9a-f-]{36}$")]
    private static partial Regex BackupLink();

    [GeneratedRegex(@"/backups\?set=[0-9a-f-]{36}$")]
    private static partial Regex SetLink();
}
