using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using HelloJohn.Console.E2E.Security;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Layout;

/// <summary>Every page, as every role, at a laptop's 1280×800 and a desktop's 1920×1080: nothing scrolls sideways and
/// the browser's console stays clean. One browser, one console, one sign-in per role; a screenshot of every page.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class PageFitTests(ConsoleServerFixture server, RoleAccounts accounts, ConsoleActivity activity)
    : IClassFixture<RoleAccounts>, IClassFixture<ConsoleActivity>
{
    private static readonly (int Width, int Height)[] Sizes = [(1280, 800), (1920, 1080)];

    /// <summary>Menu label → screenshot name; the Admin-only pages last.</summary>
    private static readonly (string Label, string Name, bool AdminOnly)[] MenuPages =
    [
        ("Dashboard", "dashboard", false),
        ("Backups", "backups", false),
        ("Restores", "restores", false),
        ("Verification", "verification", false),
        ("Recovery", "recovery", false),
        ("Point-in-time", "pitr", false),
        ("Keys & secrets", "keys", false),
        ("Schedules & retention", "schedules", false),
        ("History", "history", false),
        ("Audit", "audit", false),
        ("API tokens", "api-tokens", false),
        ("Settings", "settings", true),
        ("Users", "users", true),
    ];

    [Theory]
    [InlineData("Admin")]
    [InlineData("Operator")]
    [InlineData("Viewer")]
    public async Task EveryPage_AtLaptopAndDesktopSize_FitsTheWindowWithoutConsoleErrors(string role)
    {
        Assert.NotEmpty(activity.BackupFileName);
        var page = await server.NewPageAsync();
        var problems = PageProblems.Watch(page);
        var app = new ConsoleApp(page);
        var (email, password) = role switch
        {
            "Admin" => (ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword),
            "Operator" => (accounts.OperatorEmail, accounts.Password),
            _ => (accounts.ViewerEmail, accounts.Password),
        };
        await app.SignInAsync(email, password);

        var found = new List<string>();
        foreach (var (width, height) in Sizes)
        {
            await page.SetViewportSizeAsync(width, height);
            foreach (var (label, name, adminOnly) in MenuPages.Where(p => role == "Admin" || !p.AdminOnly))
            {
                await app.OpenAsync(label);
                await SettleAsync(page);
                await CheckAsync(page, problems, $"{name}-{role.ToLowerInvariant()}-{width}x{height}", found);
                if (name == "history" && role == "Admin" && width == Sizes[0].Width)
                {
                    // A point of the size chart names its backup, time and size when hovered.
                    var point = page.GetByTestId("chart-size").GetByTestId("chart-point").Last;
                    await point.HoverAsync();
                    await Assertions.Expect(point.Locator(".tchart-tip")).ToBeVisibleAsync();
                    await Assertions.Expect(point.Locator(".tchart-tip")).ToContainTextAsync(activity.BackupFileName);
                    await server.ScreenshotAsync(page, "history-tooltip");
                }
            }

            foreach (var (path, name) in new[] { ("/account/password", "change-password"), ("/account/two-factor", "two-factor") })
            {
                await page.GotoAsync(path);
                await CheckAsync(page, problems, $"{name}-{role.ToLowerInvariant()}-{width}x{height}", found);
                await page.GotoAsync("/");
                await app.WaitUntilLiveAsync();
            }
        }

        Assert.True(found.Count == 0, $"As {role}:\n" + string.Join("\n", found));
    }

    [Fact]
    public async Task PagesBeforeSignIn_AtLaptopAndDesktopSize_FitWithoutConsoleErrors()
    {
        var page = await server.NewPageAsync();
        var problems = PageProblems.Watch(page);
        var found = new List<string>();
        foreach (var (width, height) in Sizes)
        {
            await page.SetViewportSizeAsync(width, height);
            foreach (var (path, name) in new[] { ("/signin", "signin"), ("/invite?token=unknown", "invite-unknown") })
            {
                await page.GotoAsync(path);
                await CheckAsync(page, problems, $"{name}-{width}x{height}", found);
            }
        }

        Assert.True(found.Count == 0, string.Join("\n", found));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Favicon_NamedByEveryPage_IsARealIcon()
    {
        var page = await server.NewPageAsync();
        await page.GotoAsync("/signin");
        var icons = await page.Locator("link[rel=icon]").EvaluateAllAsync<string[]>("links => links.map(l => l.href)");
        Assert.NotEmpty(icons);
        foreach (var href in icons.Append(server.BaseUrl + "/favicon.ico"))
        {
            var response = await page.APIRequest.GetAsync(href);
            Assert.True(response.Ok, $"{href} answered {response.Status}");
            Assert.StartsWith("image/", response.Headers["content-type"], StringComparison.Ordinal);
        }

        await page.Context.CloseAsync();
    }

    private async Task CheckAsync(IPage page, PageProblems problems, string screenshot, List<string> found)
    {
        await server.ScreenshotAsync(page, Path.Combine("pages", screenshot));
        foreach (var overflow in await PageProblems.HorizontalOverflowsAsync(page))
        {
            found.Add($"{screenshot}: {overflow}");
        }

        found.AddRange(problems.TakeErrors().Select(e => $"{screenshot}: {e}"));
    }

    /// <summary>Waits until the page has loaded its data: no spinner in the content and no change to it for half a
    /// second. A page that keeps changing (a job running) is checked as it is after a while.</summary>
    private static async Task SettleAsync(IPage page)
    {
        try
        {
            await page.WaitForFunctionAsync("""
                () => new Promise(resolve => {
                  const main = document.querySelector('.mud-main-content');
                  let timer;
                  const quiet = () => { clearTimeout(timer); timer = setTimeout(() => { observer.disconnect(); resolve(!main.querySelector('.mud-progress-circular')); }, 500); };
                  const observer = new MutationObserver(quiet);
                  observer.observe(main, { subtree: true, childList: true, characterData: true, attributes: true });
                  quiet();
                })
                """, null, new() { Timeout = 8_000 });
        }
        catch (TimeoutException)
        {
            // Live work keeps the page changing; it is checked as it stands.
        }
    }
}
