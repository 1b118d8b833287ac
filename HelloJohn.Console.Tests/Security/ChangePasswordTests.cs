using System.Net;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;

namespace HelloJohn.Console.Tests.Security;

/// <summary>A signed-in person changes their own password: the form checks what it should, a wrong current password
/// counts towards lockout, success keeps this session and ends the account's others, and no password is written down.</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed class ChangePasswordTests(ChangePasswordTests.App app) : IClassFixture<ChangePasswordTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    /// <summary>Posts the form like a browser; returns where the console sends the browser next.</summary>
    private async Task<string> PostAsync(HttpClient client, string current, string newPassword, string? confirm = null)
    {
        app.PasswordsUsed.Add(newPassword);
        var form = await SecurityAppFactory.FormFieldsAsync(client, "/account/password");
        form["currentPassword"] = current;
        form["newPassword"] = newPassword;
        form["confirmPassword"] = confirm ?? newPassword;
        using var response = await client.PostAsync("/account/password", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    [Fact]
    public async Task Change_WithTheRightCurrentPassword_KeepsThisSessionEndsTheOthersAndTheNewPasswordSignsIn()
    {
        var account = await app.CreateAccountAsync(ConsoleRoles.Operator);
        using var here = await app.SignedInClientAsync(account);
        using var elsewhere = await app.SignedInClientAsync(account);
        var since = await app.LastAuditIdAsync();
        const string next = "Next-Pa55word-2026!";

        Assert.Equal("/account/password?changed=1", await PostAsync(here, account.Password, next));

        using (var page = await here.GetAsync("/account/password?changed=1"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Your password was changed", await page.Content.ReadAsStringAsync());
        }

        using (var other = await elsewhere.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.Redirect, other.StatusCode);
            Assert.StartsWith("/signin", other.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
        }

        using var fresh = app.NewClient();
        Assert.StartsWith("/signin?error=invalid", await app.PostSignInAsync(fresh, account.Email, account.Password));
        Assert.Equal("/", await app.PostSignInAsync(fresh, account.Email, next));
        var changed = Assert.Single(await app.AuditSinceAsync(since), e => e.Action == AuditActions.PasswordChanged);
        Assert.Equal((account.Email, AuditOutcome.Succeeded), (changed.Actor, changed.Outcome));
        await app.AssertNoPasswordLeakedAsync();
    }

    [Theory]
    [InlineData("mismatch", "Other-Pa55word-2026!", "Another-Pa55word-2026!")]
    [InlineData("policy", "short1!A", null)]
    [InlineData("same", null, null)]
    public async Task Change_BadNewPassword_SaysWhyAndChangesNothing(string error, string? newPassword, string? confirm)
    {
        var account = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = await app.SignedInClientAsync(account);

        var next = await PostAsync(client, account.Password, newPassword ?? account.Password, confirm);

        Assert.StartsWith($"/account/password?error={error}", next);
        var page = await client.GetStringAsync(next);
        Assert.Contains("Nothing was changed", page);
        using var fresh = app.NewClient();
        Assert.Equal("/", await app.PostSignInAsync(fresh, account.Email, account.Password));
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task Change_WrongCurrentPassword_IsRefusedAuditedAndFiveOfThemLockTheAccount()
    {
        var account = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = await app.SignedInClientAsync(account);
        var since = await app.LastAuditIdAsync();

        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal("/account/password?error=wrong", await PostAsync(client, $"Wrong-Pa55word-{i}!", "Never-Set-Pa55word!"));
        }

        Assert.StartsWith("/signin?error=locked&until=", await PostAsync(client, "Wrong-Pa55word-5!", "Never-Set-Pa55word!"));
        var records = (await app.AuditSinceAsync(since)).Where(e => e.Action == AuditActions.PasswordChanged).Select(e => e.Outcome).ToList();
        Assert.Equal([AuditOutcome.Failed, AuditOutcome.Failed, AuditOutcome.Failed, AuditOutcome.Failed, AuditOutcome.Denied], records);
        using var fresh = app.NewClient();
        Assert.StartsWith("/signin?error=locked", await app.PostSignInAsync(fresh, account.Email, account.Password));
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task Post_WithoutAntiforgeryToken_IsRejectedAndChangesNothing()
    {
        var account = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = await app.SignedInClientAsync(account);

        using var response = await client.PostAsync("/account/password", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["currentPassword"] = account.Password,
            ["newPassword"] = "Crafted-Pa55word-2026!",
            ["confirmPassword"] = "Crafted-Pa55word-2026!",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var fresh = app.NewClient();
        Assert.Equal("/", await app.PostSignInAsync(fresh, account.Email, account.Password));
    }
}
