using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Verification;

/// <summary>The Verification page, in the words of someone using it.</summary>
public sealed class VerificationPage(IPage page)
{
    private ILocator Runs => page.GetByTestId("verifications-grid").Locator("tbody tr").Filter(new() { Has = page.GetByTestId("verification-status") });

    /// <summary>Loads the page and waits until it is interactive (its picker is disabled while prerendered).</summary>
    public async Task OpenAsync(string baseUrl)
    {
        await page.GotoAsync($"{baseUrl}/verification");
        await Assertions.Expect(page.GetByLabel("Backup to verify")).ToBeEnabledAsync(new() { Timeout = 30_000 });
    }

    /// <summary>Goes to the Verification page through the menu, inside the running circuit.</summary>
    public async Task NavigateAsync()
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "Verification" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Backup to verify")).ToBeEnabledAsync();
    }

    /// <summary>Chooses the backup in the picker and presses Verify now.</summary>
    public async Task VerifyNowAsync(string backupFileName)
    {
        await page.GetByLabel("Backup to verify").ClickAsync();
        await page.Locator(".mud-popover-open").GetByText(backupFileName).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
    }

    /// <summary>Waits until the newest run has finished and returns its result word (passed, failed, cancelled).</summary>
    public async Task<string> WaitForNewestResultAsync()
    {
        var status = Runs.First.GetByTestId("verification-status");
        await Assertions.Expect(status).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(passed|failed|cancelled)$"), new() { Timeout = 120_000 });
        return (await status.TextContentAsync())!.Trim();
    }

    /// <summary>Expands the newest run and reads its per-table counts: table → (expected, actual).</summary>
    public async Task<IReadOnlyDictionary<string, (string Expected, string Actual)>> NewestTableCountsAsync()
    {
        await Runs.First.Locator("td").First.Locator("button").ClickAsync();
        var rows = page.GetByTestId("verification-details").GetByTestId("table-count-row");
        await Assertions.Expect(rows.First).ToBeVisibleAsync();
        var counts = new Dictionary<string, (string, string)>();
        foreach (var row in await rows.AllAsync())
        {
            var table = (await row.GetAttributeAsync("data-table"))!;
            counts[table] = ((await row.GetByTestId("expected").TextContentAsync())!.Trim(), (await row.GetByTestId("actual").TextContentAsync())!.Trim());
        }

        return counts;
    }
}
