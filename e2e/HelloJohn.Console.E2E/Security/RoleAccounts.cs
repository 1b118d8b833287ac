using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;

namespace HelloJohn.Console.E2E.Security;

/// <summary>An Operator and a Viewer, created once by the administrator through the Users page with an initial password,
/// which each replaces with <see cref="Password"/> at their first sign-in, as a person would.</summary>
public sealed class RoleAccounts(ConsoleServerFixture server) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly string _initial = $"Init-{Guid.NewGuid():N}"[..16] + "-Aa1";

    public string OperatorEmail => $"operator-{_suffix}@example.test";
    public string ViewerEmail => $"viewer-{_suffix}@example.test";
    public string Password { get; } = $"E2e-{Guid.NewGuid():N}"[..16] + "-Aa1";

    public async Task InitializeAsync()
    {
        var page = await server.NewPageAsync();
        await new ConsoleApp(page).SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        var users = new UsersPage(page);
        await users.OpenAsync();
        await users.CreateAsync(OperatorEmail, "Olive Operator", "Operator", _initial, () => server.ScreenshotAsync(page, "users-new-user-dialog"));
        await users.CreateAsync(ViewerEmail, "Victor Viewer", "Viewer", _initial);
        await server.ScreenshotAsync(page, "users");
        await page.Context.CloseAsync();

        foreach (var email in new[] { OperatorEmail, ViewerEmail })
        {
            var app = new ConsoleApp(await server.NewPageAsync());
            await app.SubmitSignInAsync(email, _initial);
            await app.ChangePasswordAsync(_initial, Password);
            await app.WaitUntilLiveAsync();
            await app.Page.Context.CloseAsync();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
