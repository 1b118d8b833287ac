using System.Net;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Security;

/// <summary>First sign-in password changes, invite links and two-factor sign-in over HTTP, as a browser does them:
/// nothing else opens before the account is in order, links work once, and a second factor is asked for.</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed partial class AccountSecurityTests(AccountSecurityTests.App app) : IClassFixture<AccountSecurityTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    private async Task<TestAccount> AdminSetPasswordAccountAsync(string role = ConsoleRoles.Operator)
    {
        var admin = await app.AdminAsync();
        var email = $"first-{Guid.NewGuid():N}"[..20] + "@example.test";
        var password = $"Pw-{Guid.NewGuid():N}"[..20] + "aA1!";
        app.PasswordsUsed.Add(password);
        var id = await app.Service<UserAdministrationService>().CreateAsync(admin.Actor, new NewConsoleUser(email, null, role, password), CancellationToken.None);
        return new TestAccount(id, email, password, role);
    }

    private static async Task<string?> LocationOfAsync(HttpClient client, string path, HttpMethod? method = null)
    {
        using var response = await client.SendAsync(new HttpRequestMessage(method ?? HttpMethod.Get, path) { Content = method == HttpMethod.Post ? new FormUrlEncodedContent([]) : null });
        return response.StatusCode == HttpStatusCode.Redirect ? response.Headers.Location!.OriginalString : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, Dictionary<string, string> values)
    {
        var form = await SecurityAppFactory.FormFieldsAsync(client, path);
        foreach (var (k, v) in values)
        {
            form[k] = v;
        }

        return await client.PostAsync(path, new FormUrlEncodedContent(form));
    }

    [Fact]
    public async Task FirstSignIn_WithAnAdministratorsPassword_HeldAtThePasswordPageUntilItIsReplaced()
    {
        var account = await AdminSetPasswordAccountAsync();
        using var client = await app.SignedInClientAsync(account);

        foreach (var page in new[] { "/", "/backups", "/audit/export.csv", "/account/two-factor" })
        {
            Assert.Equal("/account/password?first=1", await LocationOfAsync(client, page));
        }

        Assert.Equal("403", await LocationOfAsync(client, "/_blazor/negotiate", HttpMethod.Post));
        Assert.Contains("An administrator chose your current password", await client.GetStringAsync("/account/password"));

        const string own = "Own-Chosen-Pa55word!";
        app.PasswordsUsed.Add(own);
        var since = await app.LastAuditIdAsync();
        using (var changed = await PostFormAsync(client, "/account/password", new() { ["currentPassword"] = account.Password, ["newPassword"] = own, ["confirmPassword"] = own }))
        {
            Assert.Equal("/", changed.Headers.Location!.OriginalString);
        }

        using (var home = await client.GetAsync("/backups"))
        {
            Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        }

        var e = Assert.Single(await app.AuditSinceAsync(since), e => e.Action == AuditActions.PasswordChanged);
        Assert.Contains("administrator set", e.Detail, StringComparison.Ordinal);
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task ResetByAnAdministrator_NextSignIn_MustChooseAgain()
    {
        var admin = await app.AdminAsync();
        var account = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        const string handedOver = "Handed-Over-Pa55word!";
        app.PasswordsUsed.Add(handedOver);

        await app.Service<UserAdministrationService>().ResetPasswordAsync(admin.Actor, account.Id, handedOver, CancellationToken.None);
        using var client = await app.SignedInClientAsync(account with { Password = handedOver });

        Assert.Equal("/account/password?first=1", await LocationOfAsync(client, "/"));
        var listed = (await app.Service<UserAdministrationService>().ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == account.Id);
        Assert.True(listed.Security.MustChangePassword);
    }

    [Fact]
    public async Task InviteLink_UsedOnce_SetsThePasswordThenRefusesAgainAndEveryStepIsAudited()
    {
        var admin = await app.AdminAsync();
        var email = $"invited-{Guid.NewGuid():N}"[..20] + "@example.test";
        var since = await app.LastAuditIdAsync();
        var link = await app.Service<AccountInviteService>().InviteAsync(admin.Actor, new NewConsoleInvitee(email, "Ivy Invited", ConsoleRoles.Viewer), CancellationToken.None);
        using var browser = app.NewClient();

        Assert.Contains(email, await browser.GetStringAsync(link.PathAndQuery));
        Assert.StartsWith("/signin?error=invalid", await app.PostSignInAsync(browser, email, "Anything-Pa55word!"));

        using (var mismatch = await PostFormAsync(browser, link.PathAndQuery, new() { ["NewPassword"] = "Chosen-Pa55word-1!", ["ConfirmPassword"] = "Chosen-Pa55word-2!" }))
        {
            Assert.Contains("The two passwords differ", await mismatch.Content.ReadAsStringAsync());
        }

        const string chosen = "Chosen-By-Ivy-Pa55!";
        app.PasswordsUsed.Add(chosen);
        using (var accepted = await PostFormAsync(browser, link.PathAndQuery, new() { ["NewPassword"] = chosen, ["ConfirmPassword"] = chosen }))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
            Assert.Equal("/signin?invited=1", accepted.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
        }

        Assert.Equal("/", await app.PostSignInAsync(app.NewClient(), email, chosen));
        Assert.Contains("already used", await browser.GetStringAsync(link.PathAndQuery));
        var events = await app.AuditSinceAsync(since);
        Assert.Equal([AuditActions.UserCreated, AuditActions.UserInvited, AuditActions.InviteAccepted],
            events.Where(e => e.Target == email && e.Outcome == AuditOutcome.Succeeded).Select(e => e.Action));
        Assert.DoesNotContain(events, e => $"{e.Target}|{e.Detail}".Contains(link.Token, StringComparison.Ordinal));
        Assert.DoesNotContain(link.Token, app.Logs.AllText, StringComparison.Ordinal);
        await app.AssertNoPasswordLeakedAsync();
    }

    [Theory]
    [InlineData("expired", "expired on")]
    [InlineData("replaced", "A newer invite link replaced this one")]
    [InlineData("unknown", "is not known")]
    public async Task InviteLink_ThatCannotBeUsed_SaysWhyAndSetsNothing(string state, string because)
    {
        var admin = await app.AdminAsync();
        var email = $"inv-{state}-{Guid.NewGuid():N}"[..20] + "@example.test";
        var invites = app.Service<AccountInviteService>();
        var link = await invites.InviteAsync(admin.Actor, new NewConsoleInvitee(email, null, ConsoleRoles.Viewer), CancellationToken.None);
        var path = link.PathAndQuery;
        switch (state)
        {
            case "expired":
                await using (var db = await app.DbAsync())
                {
                    await db.Set<AccountInvite>().Where(i => i.UserId == link.UserId).ExecuteUpdateAsync(i => i.SetProperty(x => x.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)));
                }

                break;
            case "replaced":
                await invites.IssueAsync(admin.Actor, link.UserId, CancellationToken.None);
                break;
            default:
                path = "/invite?token=not-a-token-the-console-made";
                break;
        }

        using var browser = app.NewClient();
        Assert.Contains(because, await browser.GetStringAsync(path));
        await Assert.ThrowsAsync<InviteRefusedException>(() => invites.AcceptAsync(path["/invite?token=".Length..], "Would-Be-Pa55word!", "Would-Be-Pa55word!", CancellationToken.None));
        await using var check = await app.DbAsync();
        Assert.Null((await check.Users.SingleAsync(u => u.Id == link.UserId)).PasswordHash);
    }

    [Fact]
    public async Task TwoFactor_TurnedOn_SignInAsksForTheCodeAndRefusesAWrongOne()
    {
        var account = await app.CreateAccountAsync(ConsoleRoles.Operator);
        using var client = await app.SignedInClientAsync(account);
        var setup = await client.GetStringAsync("/account/two-factor");
        var key = SharedKey().Match(setup).Groups[1].Value;
        Assert.Contains("otpauth://totp/", setup, StringComparison.Ordinal);

        using (var wrong = await PostFormAsync(client, "/account/two-factor", new() { ["Code"] = "000000" }))
        {
            Assert.Contains("That code is not right", await wrong.Content.ReadAsStringAsync());
        }

        using (var on = await PostFormAsync(client, "/account/two-factor", new() { ["Code"] = Totp.Code(key, DateTimeOffset.UtcNow) }))
        {
            var page = await on.Content.ReadAsStringAsync();
            Assert.Contains("Two-factor sign-in is on", page, StringComparison.Ordinal);
            Assert.Equal(10, RecoveryCode().Matches(page).Count);
        }

        // This session goes on (its cookie was re-issued with the new stamp).
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/backups")).StatusCode);

        using var browser = app.NewClient();
        var next = await app.PostSignInAsync(browser, account.Email, account.Password);
        Assert.Equal("/signin/two-factor?returnUrl=%2F", next);
        Assert.Equal("/signin?ReturnUrl=%2Fbackups", (await LocationOfAsync(browser, "/backups"))!.Replace("http://localhost", "", StringComparison.Ordinal));
        using (var refused = await PostFormAsync(browser, next, new() { ["Code"] = "123456" == Totp.Code(key, DateTimeOffset.UtcNow) ? "654321" : "123456" }))
        {
            Assert.Contains("That code is not right", await refused.Content.ReadAsStringAsync());
        }

        var since = await app.LastAuditIdAsync();
        using (var accepted = await PostFormAsync(browser, next, new() { ["Code"] = Totp.Code(key, DateTimeOffset.UtcNow) }))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
            Assert.Equal("/", accepted.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
        }

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/backups")).StatusCode);
        var signedIn = Assert.Single(await app.AuditSinceAsync(since), e => e.Action == AuditActions.SignInSucceeded);
        Assert.Equal((account.Email, "with the authenticator app"), (signedIn.Actor, signedIn.Detail));
        await using var db = await app.DbAsync();
        var stored = await db.UserTokens.Where(t => t.UserId == account.Id).Select(t => t.Value).ToListAsync();
        Assert.DoesNotContain(stored, v => v!.Replace(" ", "", StringComparison.Ordinal).Contains(key.Replace(" ", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task TwoFactor_RequiredForAdmins_AnAdminWithoutItIsHeldAtItsSetUp()
    {
        var admin = await app.AdminAsync();
        var policy = app.Service<TwoFactorAdministration>();
        var e = await Assert.ThrowsAsync<UserAdministrationException>(() => policy.SetRequiredForAdminsAsync(admin.Actor, true, CancellationToken.None));
        Assert.Contains("your own account first", e.Message, StringComparison.Ordinal);

        var enrolled = await app.CreateAccountAsync(ConsoleRoles.Admin);
        await using (var db = await app.DbAsync())
        {
            await db.Users.Where(u => u.Id == enrolled.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.TwoFactorEnabled, true));
        }

        var other = await app.CreateAccountAsync(ConsoleRoles.Admin);
        var operatorAccount = await app.CreateAccountAsync(ConsoleRoles.Operator);
        await policy.SetRequiredForAdminsAsync(enrolled.Actor, true, CancellationToken.None);
        try
        {
            using var adminClient = await app.SignedInClientAsync(other);
            Assert.Equal("/account/two-factor?required=1", await LocationOfAsync(adminClient, "/users"));
            Assert.Contains("Administrators of this console must sign in with a second factor", await adminClient.GetStringAsync("/account/two-factor?required=1"));
            using var operatorClient = await app.SignedInClientAsync(operatorAccount);
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync("/backups")).StatusCode);
        }
        finally
        {
            await policy.SetRequiredForAdminsAsync(enrolled.Actor, false, CancellationToken.None);
        }
    }

    [GeneratedRegex(@"data-testid=""shared-key""[^>]*>([a-z2-7 ]+)<")]
    private static partial Regex SharedKey();

    [GeneratedRegex(@"<li><code>[a-zA-Z0-9-]+</code></li>")]
    private static partial Regex RecoveryCode();
}
