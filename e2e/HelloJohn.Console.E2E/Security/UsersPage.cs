using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Security;

/// <summary>The Users page as an administrator uses it, located by role and label.</summary>
public sealed class UsersPage(IPage page)
{
    public async Task OpenAsync()
    {
        await page.GotoAsync("/users");
        await page.GetByRole(AriaRole.Heading, new() { Name = "Users", Exact = true }).WaitForAsync();
        // The prerendered page shows the buttons before they answer; wait for the live circuit.
        await Assertions.Expect(page.GetByTestId("users-header")).ToHaveAttributeAsync("data-interactive", "true");
    }

    public ILocator Row(string email) => page.GetByTestId("users-table").Locator("tr", new() { HasText = email });

    public ILocator NewUserButton => page.GetByRole(AriaRole.Button, new() { Name = "New user" });

    /// <summary>Opens the New user dialog and fills it with an initial password (which the person must replace at their
    /// first sign-in); <paramref name="screenshot"/> runs before submitting.</summary>
    public async Task CreateAsync(string email, string displayName, string role, string password, Func<Task>? screenshot = null)
    {
        var dialog = await OpenNewUserAsync(email, displayName, role);
        await dialog.GetByRole(AriaRole.Radio, new() { Name = "Initial password" }).CheckAsync();
        await dialog.GetByLabel("Initial password", new() { Exact = true }).FillAsync(password);
        await dialog.GetByLabel("Repeat the password").FillAsync(password);
        if (screenshot is not null)
        {
            await screenshot();
        }

        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(Row(email)).ToBeVisibleAsync();
    }

    /// <summary>Creates the account with an invite link (the default) and returns the link the console shows once.</summary>
    public async Task<string> InviteAsync(string email, string displayName, string role, Func<Task>? screenshot = null)
    {
        var dialog = await OpenNewUserAsync(email, displayName, role);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        // The New user dialog closes as this one opens.
        var linkDialog = page.GetByRole(AriaRole.Dialog).Last;
        var link = linkDialog.GetByLabel("Invite link", new() { Exact = true });
        await Assertions.Expect(link).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("/invite\\?token="));
        if (screenshot is not null)
        {
            await screenshot();
        }

        var url = await link.InputValueAsync();
        await linkDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Assertions.Expect(Row(email)).ToContainTextAsync("invited");
        return url;
    }

    private async Task<ILocator> OpenNewUserAsync(string email, string displayName, string role)
    {
        await NewUserButton.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Email").FillAsync(email);
        await dialog.GetByLabel("Display name (optional)").FillAsync(displayName);
        await dialog.GetByRole(AriaRole.Radio, new() { Name = role }).CheckAsync();
        return dialog;
    }
}
