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
        await verification.WaitForNewestResultAsync();

        await app.OpenAsync("Restores");
        await page.GetByTestId("restore-open").ClickAsync();
        var dialog = page.GetByTestId("restore-dialog");
        var name = page.GetByLabel("New database name");
        await name.FillAsync($"hellojohn_fit_{Guid.NewGuid():N}"[..26]);
        await Assertions.Expect(page.GetByTestId("restore-submit")).ToBeEnabledAsync();
        await page.GetByTestId("restore-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("restores-grid").GetByTestId("restore-status").First)
            .ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(succeeded|failed|cancelled)$"), new() { Timeout = 120_000 });
        await page.Context.CloseAsync();
        _ = dialog;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
