using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Security;

/// <summary>Each role sees the pages and buttons it may use, and nothing else; the server refuses the rest anyway.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class RoleVisibilityTests(ConsoleServerFixture server, RoleAccounts accounts) : IClassFixture<RoleAccounts>
{
    private async Task<ConsoleApp> SignInAsync(string role)
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        var email = role switch
        {
            "Admin" => ConsoleServerFixture.AdminEmail,
            "Operator" => accounts.OperatorEmail,
            _ => accounts.ViewerEmail,
        };
        await app.SignInAsync(email, role == "Admin" ? ConsoleServerFixture.AdminPassword : accounts.Password);
        await Assertions.Expect(app.Page.GetByTestId("signed-in-as")).ToContainTextAsync(role);
        return app;
    }

    private static ILocator NavLink(ConsoleApp app, string name) => app.NavigationLink(name);

    [Theory]
    [InlineData("Admin", true, true)]
    [InlineData("Operator", true, false)]
    [InlineData("Viewer", false, false)]
    public async Task SignedInRole_SeesOnlyTheNavigationAndButtonsItMayUse(string role, bool canBackUp, bool isAdmin)
    {
        var app = await SignInAsync(role);

        await Assertions.Expect(NavLink(app, "Audit")).ToBeVisibleAsync();
        foreach (var adminOnly in new[] { "Users", "Settings", "Jobs" })
        {
            await Assertions.Expect(NavLink(app, adminOnly)).ToHaveCountAsync(isAdmin ? 1 : 0);
        }

        await app.OpenAsync("Backups");
        await Assertions.Expect(app.BackupNowButton).ToHaveCountAsync(canBackUp ? 1 : 0);
        await server.ScreenshotAsync(app.Page, $"backups-as-{role.ToLowerInvariant()}");

        await app.OpenAsync("Audit");
        await Assertions.Expect(app.Page.GetByRole(AriaRole.Link, new() { Name = "Export CSV" })).ToBeVisibleAsync();
        await Assertions.Expect(app.Page.GetByTestId("audit-table")).ToContainTextAsync("signin.succeeded");
        if (role == "Viewer")
        {
            await server.ScreenshotAsync(app.Page, "audit-as-viewer");
        }

        await app.Page.GotoAsync("/users");
        if (isAdmin)
        {
            await Assertions.Expect(new UsersPage(app.Page).NewUserButton).ToBeVisibleAsync();
        }
        else
        {
            await app.Page.WaitForURLAsync(url => url.Contains("/denied", StringComparison.Ordinal));
            await Assertions.Expect(app.Page.GetByTestId("access-denied")).ToBeVisibleAsync();
        }
    }

    [Theory]
    [InlineData("Viewer")]
    [InlineData("Operator")]
    public async Task NonAdmin_OpeningJobsDashboard_IsRefused(string role)
    {
        var app = await SignInAsync(role);

        var response = await app.Page.GotoAsync("/jobs");

        await app.Page.WaitForURLAsync(url => url.Contains("/denied", StringComparison.Ordinal));
        Assert.DoesNotContain("HelloJohn Console jobs", await app.Page.ContentAsync(), StringComparison.Ordinal);
        await Assertions.Expect(app.Page.GetByRole(AriaRole.Heading, new() { Name = "Not allowed" })).ToBeVisibleAsync();
        Assert.NotNull(response);
        if (role == "Viewer")
        {
            await server.ScreenshotAsync(app.Page, "jobs-refused-as-viewer");
        }
    }

    [Fact]
    public async Task Admin_OpeningJobsDashboard_SeesHangfire()
    {
        var app = await SignInAsync("Admin");

        await app.Page.GotoAsync("/jobs");

        await Assertions.Expect(app.Page).ToHaveTitleAsync(new System.Text.RegularExpressions.Regex("HelloJohn Console jobs"));
    }
}
