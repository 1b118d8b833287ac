using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Pages;

/// <summary>What a person does in the console, located by role and label as they would find it.</summary>
public sealed class ConsoleApp(IPage page)
{
    public IPage Page => page;

    public async Task SignInAsync(string email, string password)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/signin", StringComparison.Ordinal));
    }

    public async Task OpenAsync(string navigationLabel)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = navigationLabel, Exact = true }).ClickAsync();
        try
        {
            await page.GetByRole(AriaRole.Heading, new() { Name = navigationLabel, Exact = true }).WaitForAsync();
        }
        catch (TimeoutException)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), $"e2e-failed-{navigationLabel}.png"), FullPage = true });
            throw;
        }
    }

    public ILocator BackupNowButton => page.GetByRole(AriaRole.Button, new() { Name = "Back up now" });

    public ILocator BackupRows => page.GetByTestId("backups-grid").Locator("tbody tr");

    public ILocator FirstRowStatus => page.GetByTestId("backups-grid").GetByTestId("status").First;
}
