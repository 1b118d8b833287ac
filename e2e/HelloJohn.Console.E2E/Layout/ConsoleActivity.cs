using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using HelloJohn.Console.E2E.Verification;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Layout;

/// <summary>A console that has done something, so its tables have rows to lay out: the administrator takes a backup,
/// verifies it and restores it into a new database, through the pages, as a person would.</summary>
public sealed class ConsoleActivity(ConsoleServerFixture server) : IAsyncLifetime
{
    public string BackupFileName { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var page = await server.NewPageAsync();
        var app = new ConsoleApp(page);
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Backups");
        BackupFileName = await app.BackUpNowAndWaitAsync();

        var verification = new VerificationPage(page);
        await verification.OpenAsync();
        await verification.VerifyNowAsync(BackupFileName);
        await verification.WaitForNewestResultAsync(BackupFileName);

        await app.OpenAsync("Restores");
        await page.GetByTestId("restore-open").ClickAsync();
        await page.GetByLabel("New database name").FillAsync($"hellojohn_fit_{Guid.NewGuid():N}"[..26]);
        // The name is checked on the server as it is typed; a press that lands while it is re-checked is not taken.
        var dialog = page.GetByRole(AriaRole.Dialog);
        for (var attempt = 0; await dialog.CountAsync() > 0; attempt++)
        {
            Assert.True(attempt < 20, "The restore dialog never took the request.");
            await Assertions.Expect(page.GetByTestId("restore-submit")).ToBeEnabledAsync();
            await page.GetByTestId("restore-submit").ClickAsync();
            try
            {
                await Assertions.Expect(dialog).ToHaveCountAsync(0, new() { Timeout = 3_000 });
            }
            catch (PlaywrightException)
            {
                // Not taken yet.
            }
        }

        await Assertions.Expect(page.GetByTestId("restores-grid").GetByTestId("restore-status").First)
            .ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(succeeded|failed|cancelled)$"), new() { Timeout = 120_000 });
        await page.Context.CloseAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
