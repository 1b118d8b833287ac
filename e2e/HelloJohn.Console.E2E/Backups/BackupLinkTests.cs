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
        var set = await app.BackUpSetAndWaitAsync();
        var page = app.Page;
        await app.ExpandSetAsync(set);
        var file = (await app.MemberRow("hellojohn").Locator("code").First.TextContentAsync())!.Trim();

        await page.GetByTestId("set-link").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(SetLink());
        await Assertions.Expect(page.GetByTestId("backups-filter")).ToContainTextAsync($"Showing one set: {set}");
        await Assertions.Expect(page.GetByTestId("sets-grid").GetByTestId("set-status")).ToHaveCountAsync(1);
        await server.ScreenshotAsync(page, "backups-one-set");

        await page.GetByTestId("backups-show-all").ClickAsync();
        await Assertions.Expect(page.GetByTestId("backups-filter")).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Tab, new() { Name = "All backup files" }).ClickAsync();
        // Every database of the set is a file of its own: more than one row once the filter is gone.
        await Assertions.Expect(page.GetByTestId("backups-grid").GetByTestId("status")).Not.ToHaveCountAsync(1);

        await app.BackupRow(file).GetByRole(AriaRole.Button).First.ClickAsync();
        await page.GetByTestId("backup-link").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(BackupLink());
        await Assertions.Expect(page.GetByTestId("backups-filter")).ToContainTextAsync($"Showing one backup: {file}");
        await Assertions.Expect(page.GetByTestId("backups-grid").GetByTestId("status")).ToHaveCountAsync(1);
        await Assertions.Expect(app.BackupRow(file).GetByTestId("status")).ToHaveTextAsync("succeeded");
        await server.ScreenshotAsync(page, "backups-one-backup");
    }

    [GeneratedRegex(@"/backups\?backup=[0-9a-f-]{36}$")]
    private static partial Regex BackupLink();

    [GeneratedRegex(@"/backups\?set=[0-9a-f-]{36}$")]
    private static partial Regex SetLink();
}
