using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Verification;

[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class VerifyBackupFromUiTests(ConsoleServerFixture server)
{
    [Fact]
    public async Task VerifyNow_OnAFreshBackup_PassesWithEqualCountsPerTableAndBadgeSaysVerified()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        var verification = new VerificationPage(app.Page);
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        // Reaching Backups through the menu of an interactive page renders it in the live circuit, so its button is wired.
        await verification.OpenAsync();
        await app.OpenAsync("Backups");
        var fileName = await app.BackUpNowAndWaitAsync();
        var newest = app.BackupRow(fileName);
        await Assertions.Expect(newest.GetByTestId("verification-badge")).ToHaveAttributeAsync("data-state", "never");

        await verification.OpenAsync();
        await verification.VerifyNowAsync(fileName);

        Assert.Equal("passed", await verification.WaitForNewestResultAsync(fileName));
        var counts = await verification.NewestTableCountsAsync(fileName);
        Assert.Equal(["hj_user", "hj_session"], counts.Take(2).Select(c => c.Table));
        Assert.Equal(7, counts.Count);
        Assert.All(counts, c => Assert.Equal(c.Expected, c.Actual));
        Assert.Equal(("hj_user", "5,000", "5,000"), counts[0]);
        await server.ScreenshotAsync(app.Page, "verification-passed");

        await app.OpenAsync("Backups");
        // The page opens on the sets; the file's own badge is on the tab of every backup file.
        await app.Page.GetByRole(AriaRole.Tab, new() { Name = "All backup files" }).ClickAsync();
        await Assertions.Expect(newest.GetByTestId("verification-badge")).ToHaveAttributeAsync("data-state", "verified");
        await server.ScreenshotAsync(app.Page, "backups-verified-badge");
    }
}
