using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Backups;

/// <summary>An administrator deletes a whole set from the Backups page: refused while pinned, Delete enabled only for the
/// set's name typed exactly, the set then listed as expired and the deletion in the audit trail.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class SetDeleteTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task Admin_DeletesASetWithTypedConfirmation()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        var page = app.Page;
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Backups");
        var set = await app.BackUpSetAndWaitAsync();
        var row = app.SetRow(set);

        // Pinned: refused until unpinned, nothing deleted.
        await row.GetByTestId("pin-set").ClickAsync();
        await Assertions.Expect(row.GetByText("pinned")).ToBeVisibleAsync();
        await row.GetByTestId("delete-set").ClickAsync();
        var input = page.Locator("input[data-testid=delete-confirmation-input]");
        await input.FillAsync(set);
        await page.GetByTestId("delete-set-confirm").ClickAsync();
        await Assertions.Expect(page.GetByTestId("delete-error")).ToContainTextAsync("is pinned");
        await server.ScreenshotAsync(page, "backups-set-delete-refused-pinned");
        await page.GetByTestId("delete-set-cancel").ClickAsync();
        await row.GetByTestId("pin-set").ClickAsync();
        await Assertions.Expect(row.GetByTestId("pin-set")).ToHaveTextAsync("Pin");

        // The wrong name leaves Delete disabled; the right one deletes the whole set.
        await row.GetByTestId("delete-set").ClickAsync();
        await input.FillAsync(set[..^1]);
        await Assertions.Expect(page.GetByTestId("delete-set-confirm")).ToBeDisabledAsync();
        await input.FillAsync(set);
        await server.ScreenshotAsync(page, "backups-set-delete-confirmation");
        await page.GetByTestId("delete-set-confirm").ClickAsync();
        await Assertions.Expect(page.GetByText($"{set} was deleted:")).ToBeVisibleAsync();
        await Assertions.Expect(row.GetByTestId("set-status")).ToHaveTextAsync("expired");
        await Assertions.Expect(row.GetByTestId("delete-set")).ToHaveCountAsync(0);
        await server.ScreenshotAsync(page, "backups-after-set-delete");

        await app.NavigationLink("Audit").ClickAsync();
        await Assertions.Expect(page.GetByText(set).First).ToBeVisibleAsync();
    }
}
