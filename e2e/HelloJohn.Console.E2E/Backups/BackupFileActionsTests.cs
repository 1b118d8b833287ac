using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Backups;

/// <summary>An administrator downloads, pins and deletes backup files from the Backups page: the delete asks for the
/// file name typed, is refused for a pinned backup and is not offered for a member of a set.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class BackupFileActionsTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task Admin_DownloadsPinsAndDeletesWithTypedConfirmation()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        var page = app.Page;
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);

        // A backup of its own (a script's, through the API), and one that is a member of a set (Back up now).
        var standalone = await BackUpThroughTheApiAsync(app);
        await app.OpenAsync("Backups");
        var member = await app.BackUpNowAndWaitAsync();

        // Download: streamed as the file it is.
        var download = await page.RunAndWaitForDownloadAsync(() => app.BackupRow(member).GetByTestId("download-backup").ClickAsync());
        Assert.Equal(member, download.SuggestedFilename);
        Assert.True(new FileInfo(await download.PathAsync()).Length > 0);

        // A member of a set is not offered for deleting on its own.
        await Assertions.Expect(app.BackupRow(member).GetByTestId("delete-backup")).ToHaveCountAsync(0);

        // Pinned: refused until unpinned.
        var row = app.BackupRow(standalone);
        await row.GetByTestId("pin-backup").ClickAsync();
        await Assertions.Expect(row.GetByTestId("pinned")).ToBeVisibleAsync();
        await DeleteAsync(app, standalone);
        await Assertions.Expect(page.GetByTestId("delete-error")).ToContainTextAsync("is pinned");
        await server.ScreenshotAsync(page, "backups-delete-refused-pinned");
        await page.GetByTestId("delete-backup-cancel").ClickAsync();
        await row.GetByTestId("pin-backup").ClickAsync();
        await Assertions.Expect(row.GetByTestId("pinned")).ToHaveCountAsync(0);

        // The wrong name leaves Delete disabled; the right one deletes it.
        await row.GetByTestId("delete-backup").ClickAsync();
        var input = page.Locator("input[data-testid=delete-confirmation-input]");
        await input.FillAsync(standalone[..^2]);
        await Assertions.Expect(page.GetByTestId("delete-backup-confirm")).ToBeDisabledAsync();
        await input.FillAsync(standalone);
        await server.ScreenshotAsync(page, "backups-delete-confirmation");
        await page.GetByTestId("delete-backup-confirm").ClickAsync();
        await Assertions.Expect(page.GetByText($"{standalone} was deleted from")).ToBeVisibleAsync();
        await Assertions.Expect(row.GetByTestId("status")).ToHaveTextAsync("expired");
        await Assertions.Expect(row.GetByTestId("download-backup")).ToHaveCountAsync(0);
        await server.ScreenshotAsync(page, "backups-after-delete");

        await app.NavigationLink("Audit").ClickAsync();
        await Assertions.Expect(page.GetByText(standalone).First).ToBeVisibleAsync();

        // Settings the administrator may change, beside those the environment sets.
        await app.OpenAsync("Settings");
        await Assertions.Expect(page.GetByTestId("console-settings")).ToContainTextAsync("Daily backups kept");
        await page.GetByTestId("console-settings").ScrollIntoViewIfNeededAsync();
        await page.GetByTestId("console-settings").ScreenshotAsync(new() { Path = Path.Combine(server.ScreenshotDirectory, "settings-console-settings.png") });
    }

    private static async Task DeleteAsync(ConsoleApp app, string fileName)
    {
        await app.BackupRow(fileName).GetByTestId("delete-backup").ClickAsync();
        await app.Page.Locator("input[data-testid=delete-confirmation-input]").FillAsync(fileName);
        await app.Page.GetByTestId("delete-backup-confirm").ClickAsync();
    }

    /// <summary>Creates a personal API token on its page and takes a backup with it, as a script would; returns its file name.</summary>
    private async Task<string> BackUpThroughTheApiAsync(ConsoleApp app)
    {
        var page = app.Page;
        await app.WaitUntilLiveAsync();
        await app.NavigationLink("API tokens").ClickAsync();
        await app.WaitUntilLiveAsync();
        await page.GetByLabel("Name").FillAsync("e2e delete " + Guid.NewGuid().ToString("N")[..6]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var value = page.GetByTestId("token-value");
        await Assertions.Expect(value).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^hjc_"));
        var token = await value.InputValueAsync();

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var queued = await http.PostAsJsonAsync("/api/v1/backups/", new { });
        queued.EnsureSuccessStatusCode();
        var location = (await queued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("location").GetString()!;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        JsonElement backup;
        do
        {
            await Task.Delay(500);
            backup = (await http.GetFromJsonAsync<JsonElement>(location)).GetProperty("backup");
            Assert.True(DateTime.UtcNow < deadline, "The backup did not finish within three minutes.");
        }
        while (backup.GetProperty("status").GetString() is "Queued" or "Running");
        Assert.Equal("Succeeded", backup.GetProperty("status").GetString());
        return backup.GetProperty("fileName").GetString()!;
    }
}
