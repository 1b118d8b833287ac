using HelloJohn.Console.E2E.Infrastructure;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Verification;

[Trait("Capability", "E2E")]
public sealed class VerifyBackupFromUiTests(LocalConsoleApp app) : IClassFixture<LocalConsoleApp>
{
    [Fact]
    public async Task VerifyNow_OnAFreshBackup_PassesAndShowsEqualCountsPerTable()
    {
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{app.BaseUrl}/signin");
        await page.GetByLabel("Email").FillAsync(LocalConsoleApp.AdminEmail);
        await page.GetByLabel("Password").FillAsync(LocalConsoleApp.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        // Start on an interactive page, then move through the menu: the Backups page then renders in the live circuit,
        // so "Back up now" is wired when clicked.
        var verification = new VerificationPage(page);
        await verification.OpenAsync(app.BaseUrl);
        await page.GetByRole(AriaRole.Link, new() { Name = "Backups" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Back up now" }).ClickAsync();
        var newest = page.GetByTestId("backups-grid").Locator("tbody tr").Filter(new() { Has = page.GetByTestId("status") }).First;
        await Assertions.Expect(newest.GetByTestId("status")).ToHaveTextAsync("succeeded", new() { Timeout = 120_000 });
        await Assertions.Expect(newest.GetByTestId("verification-badge")).ToHaveAttributeAsync("data-state", "never");
        var fileName = (await newest.Locator("td").Nth(2).TextContentAsync())!.Trim();

        await verification.NavigateAsync();
        await verification.VerifyNowAsync(fileName);

        Assert.Equal("passed", await verification.WaitForNewestResultAsync());
        var counts = await verification.NewestTableCountsAsync();
        Assert.Equal(["hj_user", "hj_session"], counts.Keys.Take(2));
        Assert.All(counts, c => Assert.Equal(c.Value.Expected, c.Value.Actual));
        Assert.NotEqual("0", counts["hj_user"].Actual);

        await page.GetByRole(AriaRole.Link, new() { Name = "Backups" }).ClickAsync();
        await Assertions.Expect(newest.GetByTestId("verification-badge")).ToHaveAttributeAsync("data-state", "verified");
    }
}
