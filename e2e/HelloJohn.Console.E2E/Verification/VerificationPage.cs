using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Verification;

/// <summary>The Verification page, in the words of someone using it.</summary>
public sealed partial class VerificationPage(IPage page)
{
    private ILocator Runs => page.GetByTestId("verifications-grid").Locator("tbody tr").Filter(new() { Has = page.GetByTestId("verification-status") });

    private ILocator BackupPicker => page.GetByLabel("Backup to verify");

    // The select's visible box: its input is a zero-height element under the shown text, so it is not what a person clicks.
    private ILocator BackupPickerBox => page.Locator("div.mud-select").Filter(new() { Has = BackupPicker }).Last;

    /// <summary>Goes to the page through the menu and waits until it is interactive (the picker is disabled while prerendered).</summary>
    public async Task OpenAsync()
    {
        await page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Verification", Exact = true }).ClickAsync();
        // The first page of a session waits for its circuit to start, which takes a while on a busy machine.
        await Assertions.Expect(BackupPicker).ToBeEnabledAsync(new() { Timeout = 30_000 });
    }

    /// <summary>Chooses the backup in the picker and presses Verify now.</summary>
    public async Task VerifyNowAsync(string backupFileName)
    {
        try
        {
            await BackupPickerBox.ClickAsync();
            await page.Locator(".mud-popover-open").GetByText(backupFileName).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Combobox, new() { Name = "Backup to verify" })).ToContainTextAsync(backupFileName);
            // A press that lands while the page re-renders after the pick is lost: press until the console says it queued.
            for (var attempt = 0; ; attempt++)
            {
                await page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
                try
                {
                    await Assertions.Expect(page.GetByText("Verification queued.").First).ToBeVisibleAsync(new() { Timeout = 5_000 });
                    break;
                }
                catch (PlaywrightException) when (attempt < 5)
                {
                    // Not taken yet.
                }
            }
        }
        catch (TimeoutException)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "e2e-failed-verify-now.png"), FullPage = true });
            throw;
        }
    }

    /// <summary>The newest run of one backup: other backups' runs (earlier tests') may be newer or finish first.</summary>
    private ILocator NewestRunOf(string backupFileName) => Runs.Filter(new() { HasText = backupFileName }).First;

    /// <summary>Waits until the newest run of the backup has finished and returns its result (passed, failed, cancelled).</summary>
    public async Task<string> WaitForNewestResultAsync(string backupFileName)
    {
        var status = NewestRunOf(backupFileName).GetByTestId("verification-status");
        await Assertions.Expect(status).ToHaveTextAsync(FinishedResult(), new() { Timeout = 120_000 });
        return (await status.TextContentAsync())!.Trim();
    }

    /// <summary>Expands the newest run of the backup and reads its per-table counts: table → (expected, actual), in the order shown.</summary>
    public async Task<IReadOnlyList<(string Table, string Expected, string Actual)>> NewestTableCountsAsync(string backupFileName)
    {
        await NewestRunOf(backupFileName).GetByRole(AriaRole.Button).First.ClickAsync();
        var rows = page.GetByTestId("verification-details").GetByTestId("table-count-row");
        await Assertions.Expect(rows.First).ToBeVisibleAsync();
        var counts = new List<(string, string, string)>();
        foreach (var row in await rows.AllAsync())
        {
            counts.Add(((await row.GetAttributeAsync("data-table"))!,
                (await row.GetByTestId("expected").TextContentAsync())!.Trim(),
                (await row.GetByTestId("actual").TextContentAsync())!.Trim()));
        }

        return counts;
    }

    [GeneratedRegex("^(passed|failed|cancelled)$")]
    private static partial Regex FinishedResult();
}
