using System.Text.RegularExpressions;
using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Security;

/// <summary>An Operator has the Backups page open; something takes their power away in another browser. Their open
/// tab loses it at once, and Back up now queues nothing.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed partial class RevokedAccessTests(ConsoleServerFixture server)
{
    private readonly string _password = $"E2e-{Guid.NewGuid():N}"[..16] + "-Aa1";
    private readonly string _initial = $"Init-{Guid.NewGuid():N}"[..16] + "-Aa1";

    [Fact]
    public async Task OperatorsDisabledAndDemoted_TheirOpenTabsSignOutAtOnceAndQueueNothing()
    {
        var (admin, users) = await AdminAsync();
        var disabled = await CreateOperatorAsync(users, "disable");
        var demoted = await CreateOperatorAsync(users, "demote");
        var disabledTab = await OpenBackupsAsync(disabled);
        var demotedTab = await OpenBackupsAsync(demoted);
        var before = await BackupRequestsAsync(admin.Page);
        await users.OpenAsync();

        await users.Row(disabled).GetByRole(AriaRole.Button, new() { Name = $"Disable {disabled}" }).ClickAsync();
        await admin.Page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Assertions.Expect(users.Row(disabled)).ToContainTextAsync("disabled");
        await users.Row(demoted).GetByRole(AriaRole.Button, new() { Name = $"Change role of {demoted}" }).ClickAsync();
        var dialog = admin.Page.GetByRole(AriaRole.Dialog);
        await dialog.GetByRole(AriaRole.Radio, new() { Name = "Viewer" }).CheckAsync();
        await dialog.GetByTestId("change-role").ClickAsync();
        await Assertions.Expect(users.Row(demoted)).ToContainTextAsync("Viewer");

        // Neither Operator did anything: their tabs went to the sign-in page by themselves, saying why, and their
        // cookies no longer open a page.
        foreach (var (tab, name) in new[] { (disabledTab, "disable"), (demotedTab, "demote") })
        {
            await tab.Page.WaitForURLAsync(url => url.Contains("/signin", StringComparison.Ordinal), new() { Timeout = 30_000 });
            await Assertions.Expect(tab.BackupNowButton).ToHaveCountAsync(0);
            await Assertions.Expect(tab.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("You were signed out: an administrator changed your account");
            await server.ScreenshotAsync(tab.Page, $"revoked-{name}-operator-tab");
            await tab.Page.GotoAsync("/backups");
            await tab.Page.WaitForURLAsync(url => url.Contains("/signin", StringComparison.Ordinal));
        }

        // Signed in again, the demoted one is a Viewer: no Back up now.
        await demotedTab.SignInAsync(demoted, _password);
        await Assertions.Expect(demotedTab.Page.GetByTestId("signed-in-as")).ToContainTextAsync("Viewer");
        await demotedTab.OpenAsync("Backups");
        await Assertions.Expect(demotedTab.BackupNowButton).ToHaveCountAsync(0);
        Assert.Equal(before, await BackupRequestsAsync(admin.Page));
    }

    [Fact]
    public async Task OperatorLockedOutElsewhere_BackUpNowInTheirOpenTabIsRefusedSayingWhyAndQueuesNothing()
    {
        // A lockout ends no session by itself: what stops the open tab is the check of the account when the button runs.
        var (admin, users) = await AdminAsync();
        var email = await CreateOperatorAsync(users, "locked");
        var operatorTab = await OpenBackupsAsync(email);
        var before = await BackupRequestsAsync(admin.Page);
        var elsewhere = await server.NewPageAsync();
        for (var i = 0; i < 5; i++)
        {
            await elsewhere.GotoAsync("/signin");
            await elsewhere.GetByLabel("Email").FillAsync(email);
            await elsewhere.GetByLabel("Password").FillAsync($"Wrong-Pa55word-{i}");
            await elsewhere.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await elsewhere.WaitForURLAsync(url => url.Contains("error=", StringComparison.Ordinal));
        }

        await Assertions.Expect(elsewhere.GetByRole(AriaRole.Alert)).ToContainTextAsync(LockedUntil());

        await operatorTab.BackupNowButton.ClickAsync();

        var refusal = operatorTab.Page.GetByTestId("backups-error");
        await Assertions.Expect(refusal).ToContainTextAsync(new Regex(@"The account \S+ is locked after repeated failed sign-ins until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\. Nothing was done\."));
        await server.ScreenshotAsync(operatorTab.Page, "revoked-locked-backup-refused");
        Assert.Equal(before, await BackupRequestsAsync(admin.Page));
        await admin.Page.GotoAsync("/audit");
        await Assertions.Expect(admin.Page.GetByTestId("audit-table").Locator("tr", new() { HasText = email }).Filter(new() { HasText = "set.requested" }).First)
            .ToContainTextAsync("Denied");
    }

    private async Task<(ConsoleApp Admin, UsersPage Users)> AdminAsync()
    {
        var admin = new ConsoleApp(await server.NewPageAsync());
        await admin.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        var users = new UsersPage(admin.Page);
        await users.OpenAsync();
        return (admin, users);
    }

    private async Task<string> CreateOperatorAsync(UsersPage users, string purpose)
    {
        var email = $"op-{purpose}-{Guid.NewGuid():N}"[..20] + "@example.test";
        await users.CreateAsync(email, "Revoked Operator", "Operator", _initial);
        return email;
    }

    private async Task<ConsoleApp> OpenBackupsAsync(string email)
    {
        // The administrator gave an initial password: the first sign-in replaces it before anything else opens.
        var tab = new ConsoleApp(await server.NewPageAsync());
        await tab.SubmitSignInAsync(email, _initial);
        await tab.ChangePasswordAsync(_initial, _password);
        await tab.WaitUntilLiveAsync();
        await tab.OpenAsync("Backups");
        await Assertions.Expect(tab.BackupNowButton).ToBeEnabledAsync();
        return tab;
    }

    /// <summary>How many backup runs the admin's Backups page lists (queued, running or finished): Back up now queues a
    /// set of the deployment's databases.</summary>
    private static async Task<int> BackupRequestsAsync(IPage adminPage)
    {
        await adminPage.GotoAsync("/backups");
        await Assertions.Expect(adminPage.GetByTestId("sets-grid")).ToBeVisibleAsync();
        var rows = adminPage.GetByTestId("sets-grid").Locator("tbody tr");
        return await rows.Filter(new() { HasText = "hellojohn_set_" }).CountAsync();
    }

    [GeneratedRegex(@"locked after too many failed sign-ins until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")]
    private static partial Regex LockedUntil();
}
