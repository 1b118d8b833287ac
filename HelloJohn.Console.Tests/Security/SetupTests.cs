using System.Net;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Security;

/// <summary>The one-time setup page, on a console started without HELLOJOHN_CONSOLE_ADMIN_EMAIL/_PASSWORD. Each test
/// gets a console of its own: setup can only happen once per database.</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed class SetupTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private const string Email = "first-admin@example.test";
    private const string Password = "First-Admin-Pa55!";
    private readonly SecurityAppFactory _app = NoAdminApp(postgres);

    private static SecurityAppFactory NoAdminApp(PostgresClusterFixture postgres)
    {
        var app = new SecurityAppFactory(postgres);
        app.Settings["HELLOJOHN_CONSOLE_ADMIN_EMAIL"] = "";
        app.Settings["HELLOJOHN_CONSOLE_ADMIN_PASSWORD"] = "";
        app.PasswordsUsed.Add(Password);
        return app;
    }

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    private static string PathOf(HttpResponseMessage r) => r.Headers.Location is { } l ? (l.IsAbsoluteUri ? l.AbsolutePath : l.OriginalString.Split('?')[0]) : "";

    private static async Task<HttpResponseMessage> PostSetupAsync(HttpClient client, Dictionary<string, string> form, string email, string password, string? confirm = null)
    {
        form["_handler"] = "setup";
        form["Input.Email"] = email;
        form["Input.DisplayName"] = "First Admin";
        form["Input.Password"] = password;
        form["Input.ConfirmPassword"] = confirm ?? password;
        return await client.PostAsync("/setup", new FormUrlEncodedContent(form));
    }

    private async Task<int> AdminCountAsync()
    {
        await using var db = await _app.DbAsync();
        return await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where r.Name == ConsoleRoles.Admin select ur).CountAsync();
    }

    [Fact]
    public async Task Setup_WhileNoAdminExists_CreatesTheAdminOnceThenClosesForPagesAndCraftedPosts()
    {
        using var client = _app.NewClient();
        var signinPage = await client.GetStringAsync("/signin");
        Assert.Contains("href=\"/setup\"", signinPage);
        using (var anonymousHome = await client.GetAsync("/"))
        {
            Assert.Equal("/signin", PathOf(anonymousHome));
        }

        var form = await SecurityAppFactory.FormFieldsAsync(client, "/setup");
        var since = await _app.LastAuditIdAsync();
        using (var created = await PostSetupAsync(client, form, Email, Password))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
            Assert.Equal("/signin?setup=done", created.Headers.Location!.PathAndQuery);
        }

        Assert.Equal(1, await AdminCountAsync());
        var e = Assert.Single(await _app.AuditSinceAsync(since));
        Assert.Equal((AuditActions.SetupAdminCreated, Email, AuditOutcome.Succeeded), (e.Action, e.Actor, e.Outcome));
        Assert.NotNull(e.UserId);
        Assert.Equal("/", await _app.PostSignInAsync(_app.NewClient(), Email, Password));

        // Closed: the page sends everyone to sign in, and a crafted post (a valid token from the sign-in page) creates nothing.
        using var stranger = _app.NewClient();
        using (var page = await stranger.GetAsync("/setup"))
        {
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.Equal("/signin", PathOf(page));
        }

        var tokens = await SecurityAppFactory.FormFieldsAsync(stranger, "/signin");
        Assert.DoesNotContain("href=\"/setup\"", await stranger.GetStringAsync("/signin"));
        since = await _app.LastAuditIdAsync();
        using (var crafted = await PostSetupAsync(stranger, tokens, "intruder@example.test", "Intruder-Pa55word!"))
        {
            Assert.Equal(HttpStatusCode.Redirect, crafted.StatusCode);
            Assert.Equal("/signin", PathOf(crafted));
        }

        Assert.Equal(1, await AdminCountAsync());
        await using (var db = await _app.DbAsync())
        {
            Assert.False(await db.Users.AnyAsync(u => u.Email == "intruder@example.test"));
        }

        var refused = Assert.Single(await _app.AuditSinceAsync(since));
        Assert.Equal((AuditActions.SetupAdminCreated, AuditOutcome.Denied, "intruder@example.test"), (refused.Action, refused.Outcome, refused.Target));
        _app.PasswordsUsed.Add("Intruder-Pa55word!");
        await _app.AssertNoPasswordLeakedAsync();
    }

    [Theory]
    [InlineData("short-A1!", null, "The password needs at least 12 characters.")]
    [InlineData("alllowercase-no-digits!", null, "Passwords must have at least one digit")]
    [InlineData("Good-Pa55word-123", "Other-Pa55word-123", "The two passwords differ.")]
    [InlineData("NoSymbolPassw0rdX", null, "Passwords must have at least one non alphanumeric character.")]
    public async Task Setup_PasswordRefused_ShowsWhyAndCreatesNothing(string password, string? confirm, string because)
    {
        using var client = _app.NewClient();
        var form = await SecurityAppFactory.FormFieldsAsync(client, "/setup");
        _app.PasswordsUsed.Add(password);

        using var response = await PostSetupAsync(client, form, Email, password, confirm);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains(System.Net.WebUtility.HtmlEncode(because), html, StringComparison.Ordinal);
        Assert.DoesNotContain(password, html, StringComparison.Ordinal);
        Assert.Equal(0, await AdminCountAsync());
        Assert.True(await _app.Service<FirstAdminSetup>().IsOpenAsync(CancellationToken.None));
        await _app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task CreateFirstAdmin_TwoAtOnce_ExactlyOneWins()
    {
        var setup = _app.Service<FirstAdminSetup>();
        var attempts = new[] { "a@example.test", "b@example.test", "c@example.test" }
            .Select(email => Task.Run(async () =>
            {
                try
                {
                    await setup.CreateFirstAdminAsync(new FirstAdminRequest(email, null, Password), null, "test", CancellationToken.None);
                    return true;
                }
                catch (SetupClosedException)
                {
                    return false;
                }
            }))
            .ToList();

        var won = await Task.WhenAll(attempts);

        Assert.Equal(1, won.Count(w => w));
        Assert.Equal(1, await AdminCountAsync());
        Assert.False(await setup.IsOpenAsync(CancellationToken.None));
    }
}
