using System.Net;
using System.Security.Claims;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Tests.Security;

[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed class SignInTests(SignInTests.App app) : IClassFixture<SignInTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    private static string PathOf(HttpResponseMessage r) => r.Headers.Location is { } l ? (l.IsAbsoluteUri ? l.AbsolutePath : l.OriginalString.Split('?')[0]) : "";

    [Fact]
    public async Task SignIn_RightPassword_SetsHttpOnlySameSiteCookieRecordsLastSignInAndOneEvent()
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        var since = await app.LastAuditIdAsync();
        using var client = app.NewClient();
        var form = await SecurityAppFactory.FormFieldsAsync(client, "/signin");
        form["email"] = viewer.Email;
        form["password"] = viewer.Password;
        using var response = await client.PostAsync("/account/signin", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("hjc.auth=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        using (var home = await client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        }

        var e = Assert.Single(await app.AuditSinceAsync(since));
        Assert.Equal((AuditActions.SignInSucceeded, viewer.Email, viewer.Id, AuditOutcome.Succeeded), (e.Action, e.Actor, e.UserId, e.Outcome));
        await using var db = await app.DbAsync();
        Assert.NotNull((await db.Users.SingleAsync(u => u.Id == viewer.Id)).LastSignInAt);
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_IsRejectedAndNoSessionStarts()
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = app.NewClient();
        using var response = await client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = viewer.Email,
            ["password"] = viewer.Password,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("hjc.auth=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task UnlockCommand_OnlyAdminLockedOut_LetsThemBackInAndIsAudited()
    {
        // The administrator created from the environment is the only one here.
        var admin = await app.AdminAsync();
        using var client = app.NewClient();
        // Locked as five wrong passwords lock it (the test above goes through them one by one).
        await using (var db = await app.DbAsync())
        {
            await db.Users.Where(u => u.Id == admin.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.LockoutEnd, DateTimeOffset.UtcNow.AddMinutes(15)));
        }

        Assert.StartsWith("/signin?error=locked", await app.PostSignInAsync(client, admin.Email, admin.Password));
        var since = await app.LastAuditIdAsync();
        var output = new StringWriter();

        var exit = await AccountUnlockCommand.RunAsync(app.Services, admin.Email.ToUpperInvariant(), output);

        Assert.Equal(0, exit);
        Assert.Contains($"Unlocked {admin.Email.ToUpperInvariant()}", output.ToString(), StringComparison.Ordinal);
        Assert.Equal("/", await app.PostSignInAsync(client, admin.Email, admin.Password));
        var e = (await app.AuditSinceAsync(since)).First();
        Assert.Equal((AuditActions.UserUnlocked, AuditOutcome.Succeeded, null), (e.Action, e.Outcome, e.UserId));
        Assert.StartsWith("unlock-user command on ", e.Actor, StringComparison.Ordinal);
        Assert.Contains("Done on the console's host", e.Detail, StringComparison.Ordinal);

        var unknown = new StringWriter();
        Assert.Equal(2, await AccountUnlockCommand.RunAsync(app.Services, "nobody@example.test", unknown));
        Assert.Contains("No console account has the email nobody@example.test. Nothing was changed.", unknown.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_FiveWrongPasswords_LocksTheAccountEvenForTheRightPasswordUntilAnAdminUnlocks()
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = app.NewClient();
        var since = await app.LastAuditIdAsync();

        var answers = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add(await app.PostSignInAsync(client, viewer.Email, $"Wrong-Pa55word-{i}"));
        }

        Assert.All(answers.Take(4), a => Assert.StartsWith("/signin?error=invalid", a));
        Assert.StartsWith("/signin?error=locked", answers[4]);
        Assert.StartsWith("/signin?error=locked", await app.PostSignInAsync(client, viewer.Email, viewer.Password));
        using (var home = await client.GetAsync("/"))
        {
            Assert.Equal("/signin", PathOf(home));
        }

        // The page says when the lockout ends (15 minutes from the fifth failure) and how to get back in.
        var page = await client.GetStringAsync(answers[4]);
        var until = (await app.Service<UserManager<ConsoleUser>>().GetLockoutEndDateAsync((await app.Service<UserManager<ConsoleUser>>().FindByIdAsync(viewer.Id))!))!.Value;
        Assert.Contains($"locked after too many failed sign-ins until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Contains("./run.sh unlock-user", WebUtility.HtmlDecode(page), StringComparison.Ordinal);

        var events = await app.AuditSinceAsync(since);
        Assert.Equal(6, events.Count);
        Assert.All(events, e => Assert.Equal((AuditActions.SignInFailed, viewer.Email), (e.Action, e.Actor)));
        Assert.Equal([.. Enumerable.Repeat(AuditOutcome.Failed, 4), AuditOutcome.Denied, AuditOutcome.Denied], events.Select(e => e.Outcome));

        var listed = (await app.Service<UserAdministrationService>().ListAsync(Actor.System, CancellationToken.None)).Single(u => u.Id == viewer.Id);
        Assert.True(listed.IsLockedOut);

        var admin = await app.AdminAsync();
        await app.Service<UserAdministrationService>().UnlockAsync(admin.Actor, viewer.Id, CancellationToken.None);
        Assert.Equal("/", await app.PostSignInAsync(client, viewer.Email, viewer.Password));
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task SignIn_DisabledUser_IsRefusedWithTheRightPassword()
    {
        var admin = await app.AdminAsync();
        var op = await app.CreateAccountAsync(ConsoleRoles.Operator);
        await app.Service<UserAdministrationService>().DisableAsync(admin.Actor, op.Id, CancellationToken.None);
        using var client = app.NewClient();
        var since = await app.LastAuditIdAsync();

        Assert.StartsWith("/signin?error=disabled", await app.PostSignInAsync(client, op.Email, op.Password));

        using var home = await client.GetAsync("/");
        Assert.Equal("/signin", PathOf(home));
        var e = Assert.Single(await app.AuditSinceAsync(since));
        Assert.Equal((AuditActions.SignInFailed, AuditOutcome.Denied), (e.Action, e.Outcome));
    }

    [Fact]
    public async Task Session_UserDisabledAfterSigningIn_NextRequestIsSentToSignIn()
    {
        var admin = await app.AdminAsync();
        var op = await app.CreateAccountAsync(ConsoleRoles.Operator);
        using var client = await app.SignedInClientAsync(op);
        using (var before = await client.GetAsync("/backups"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await app.Service<UserAdministrationService>().DisableAsync(admin.Actor, op.Id, CancellationToken.None);

        using var after = await client.GetAsync("/backups");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/signin", PathOf(after));
    }

    [Fact]
    public async Task Session_RoleChanged_OldCookieStopsWorkingAndTheNewRoleAppliesAfterSigningInAgain()
    {
        var admin = await app.AdminAsync();
        var op = await app.CreateAccountAsync(ConsoleRoles.Operator);
        using var client = await app.SignedInClientAsync(op);
        using (var refused = await client.GetAsync("/users"))
        {
            Assert.Equal("/denied", PathOf(refused));
        }

        await app.Service<UserAdministrationService>().ChangeRoleAsync(admin.Actor, op.Id, ConsoleRoles.Admin, CancellationToken.None);
        try
        {
            using (var stale = await client.GetAsync("/users"))
            {
                Assert.Equal("/signin", PathOf(stale));
            }

            Assert.Equal("/", await app.PostSignInAsync(client, op.Email, op.Password));
            using var allowed = await client.GetAsync("/users");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }
        finally
        {
            // Leave the environment admin as the only active administrator for the other tests.
            await app.Service<UserAdministrationService>().DisableAsync(admin.Actor, op.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Session_PasswordResetByAdmin_EndsTheSessionAndOnlyTheNewPasswordWorks()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = await app.SignedInClientAsync(viewer);
        const string newPassword = "Reset-Pa55word-xyz";
        app.PasswordsUsed.Add(newPassword);

        await app.Service<UserAdministrationService>().ResetPasswordAsync(admin.Actor, viewer.Id, newPassword, CancellationToken.None);

        using (var stale = await client.GetAsync("/"))
        {
            Assert.Equal("/signin", PathOf(stale));
        }

        Assert.StartsWith("/signin?error=invalid", await app.PostSignInAsync(client, viewer.Email, viewer.Password));
        Assert.Equal("/", await app.PostSignInAsync(client, viewer.Email, newPassword));
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task SignOut_WithToken_EndsTheSessionAndIsAudited()
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = await app.SignedInClientAsync(viewer);
        var form = await SecurityAppFactory.FormFieldsAsync(client, "/signin");
        var since = await app.LastAuditIdAsync();

        using var response = await client.PostAsync("/account/signout", new FormUrlEncodedContent(form));

        Assert.Equal("/signin", PathOf(response));
        using var home = await client.GetAsync("/");
        Assert.Equal("/signin", PathOf(home));
        var e = Assert.Single(await app.AuditSinceAsync(since));
        Assert.Equal((AuditActions.SignedOut, viewer.Email, AuditOutcome.Succeeded), (e.Action, e.Actor, e.Outcome));
    }

    [Fact]
    public async Task SignOut_WithoutToken_IsRefusedAndTheSessionStays()
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = await app.SignedInClientAsync(viewer);

        using var response = await client.PostAsync("/account/signout", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var home = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    [Fact]
    public async Task CircuitRevalidation_AfterRoleChangeOrDisable_NoLongerAcceptsTheSignedInUser()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        var signedIn = await PrincipalAsync(viewer.Id);

        Assert.True(await StillValidAsync(signedIn));
        await app.Service<UserAdministrationService>().ChangeRoleAsync(admin.Actor, viewer.Id, ConsoleRoles.Operator, CancellationToken.None);
        Assert.False(await StillValidAsync(signedIn));

        var signedInAgain = await PrincipalAsync(viewer.Id);
        Assert.True(await StillValidAsync(signedInAgain));
        await app.Service<UserAdministrationService>().DisableAsync(admin.Actor, viewer.Id, CancellationToken.None);
        Assert.False(await StillValidAsync(signedInAgain));
    }

    private async Task<ClaimsPrincipal> PrincipalAsync(string userId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>().FindByIdAsync(userId);
        return await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<ConsoleUser>>().CreateAsync(user!);
    }

    // A scope per check, as the provider itself does on every revalidation.
    private async Task<bool> StillValidAsync(ClaimsPrincipal principal)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await ConsoleRevalidatingAuthenticationStateProvider.IsStillValidAsync(
            scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>(),
            scope.ServiceProvider.GetRequiredService<IOptions<IdentityOptions>>().Value,
            principal);
    }

    [Theory]
    [InlineData("//evil.example/steal")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example")]
    public async Task SignIn_ReturnUrlOffSite_GoesToTheDashboardInstead(string returnUrl)
    {
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        using var client = app.NewClient();

        Assert.Equal("/", await app.PostSignInAsync(client, viewer.Email, viewer.Password, returnUrl));
    }

    [Theory]
    [InlineData(ConsoleRoles.Viewer, false)]
    [InlineData(ConsoleRoles.Operator, false)]
    [InlineData(ConsoleRoles.Admin, true)]
    public async Task JobsDashboard_ForRole_OnlyAdminGetsIn(string role, bool allowed)
    {
        var account = await app.CreateAccountAsync(role);
        try
        {
            using var client = await app.SignedInClientAsync(account);
            using var response = await client.GetAsync("/jobs");

            if (allowed)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("HelloJohn Console jobs", await response.Content.ReadAsStringAsync());
            }
            else
            {
                Assert.Equal("/denied", PathOf(response));
            }
        }
        finally
        {
            if (role == ConsoleRoles.Admin)
            {
                await app.Service<UserAdministrationService>().DisableAsync((await app.AdminAsync()).Actor, account.Id, CancellationToken.None);
            }
        }
    }
}
