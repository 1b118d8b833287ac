using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Pages;

/// <summary>What a person does in the console, located by role and label as they would find it.</summary>
public sealed partial class ConsoleApp(IPage page)
{
    public IPage Page => page;

    public async Task SignInAsync(string email, string password)
    {
        await SubmitSignInAsync(email, password);
        await page.WaitForURLAsync(url => !url.Contains("/signin", StringComparison.Ordinal));
        await WaitUntilLiveAsync();
    }

    /// <summary>Fills and sends the sign-in form, and waits for the next page, whatever it is (a two-factor step, a
    /// password to replace).</summary>
    public async Task SubmitSignInAsync(string email, string password)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(url => !url.EndsWith("/signin", StringComparison.Ordinal));
    }

    /// <summary>On the password page: types the current password and a new one twice, and sends it.</summary>
    public async Task ChangePasswordAsync(string current, string next, string? again = null)
    {
        await page.GetByLabel("Current password").FillAsync(current);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(next);
        await page.GetByLabel("New password again").FillAsync(again ?? next);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
    }

    /// <summary>Waits until the page's interactive circuit is attached: a click on a prerendered page can be lost.</summary>
    public Task WaitUntilLiveAsync() =>
        page.GetByTestId("circuit-live").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    public async Task OpenAsync(string navigationLabel)
    {
        await WaitUntilLiveAsync();
        await NavigationLink(navigationLabel).ClickAsync();
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

    /// <summary>A link of the side menu; pages link to each other too (the dashboard's cards), so the menu is named.</summary>
    public ILocator NavigationLink(string label) =>
        page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = label, Exact = true });

    /// <summary>Presses Back up now on the Backups page until the console says it queued a set (a click that lands while
    /// the page is still attaching is lost), waits for that set to say succeeded, and opens the tab of every file.</summary>
    /// <returns>The file name of the deployment's own database (HELLOJOHN_DATABASE_URL's) in the new set.</returns>
    public async Task<string> BackUpNowAndWaitAsync(float timeoutMs = 180_000)
    {
        var setName = await BackUpSetAndWaitAsync(timeoutMs);
        await ExpandSetAsync(setName);
        var fileName = (await MemberRow("hellojohn").Locator("code").First.TextContentAsync())!.Trim();
        await page.GetByRole(AriaRole.Tab, new() { Name = "All backup files" }).ClickAsync();
        await Assertions.Expect(BackupRow(fileName).GetByTestId("status")).ToHaveTextAsync("succeeded");
        return fileName;
    }

    /// <summary>Presses Back up now until a set is queued and waits for it to succeed; returns the set's name.</summary>
    public async Task<string> BackUpSetAndWaitAsync(float timeoutMs = 180_000)
    {
        var announced = page.GetByText(SetQueuedMessage());
        while (true)
        {
            await BackupNowButton.ClickAsync();
            try
            {
                await Assertions.Expect(announced).ToBeVisibleAsync(new() { Timeout = 5_000 });
                break;
            }
            catch (PlaywrightException)
            {
                // Not taken yet.
            }
        }

        var setName = SetQueuedMessage().Match((await announced.First.TextContentAsync())!).Groups[1].Value;
        await Assertions.Expect(SetRow(setName).GetByTestId("set-status")).ToHaveTextAsync("succeeded", new() { Timeout = timeoutMs });
        return setName;
    }

    /// <summary>Opens a set's row to show its members.</summary>
    public async Task ExpandSetAsync(string setName)
    {
        await SetRow(setName).GetByRole(AriaRole.Button).First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("set-members")).ToBeVisibleAsync();
    }

    /// <summary>The Sets grid row of one set.</summary>
    public ILocator SetRow(string setName) => page.GetByTestId("sets-grid").Locator("tbody tr").Filter(new() { HasText = setName });

    /// <summary>The row of one database in an expanded set.</summary>
    public ILocator MemberRow(string database) =>
        page.GetByTestId("set-member").Filter(new() { Has = page.GetByTestId("member-database").GetByText(database, new() { Exact = true }) });

    /// <summary>The Backups grid row of one backup.</summary>
    public ILocator BackupRow(string fileName) => BackupRows.Filter(new() { HasText = fileName });

    [GeneratedRegex(@"Set (hellojohn_set_\S+) queued\.")]
    private static partial Regex SetQueuedMessage();

    public ILocator BackupNowButton => page.GetByRole(AriaRole.Button, new() { Name = "Back up now" });

    public ILocator BackupRows => page.GetByTestId("backups-grid").Locator("tbody tr");

}
