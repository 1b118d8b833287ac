using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Security;

/// <summary>Account administration against the real console database. Between tests the environment's administrator is
/// the only active Admin: a test that adds one disables it again.</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed class UserAdministrationServiceTests(UserAdministrationServiceTests.App app) : IClassFixture<UserAdministrationServiceTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    private UserAdministrationService Accounts => app.Service<UserAdministrationService>();

    private async Task<AuditEvent> SingleEventSinceAsync(long since)
    {
        var events = await app.AuditSinceAsync(since);
        return Assert.Single(events);
    }

    [Fact]
    public async Task Create_WithRole_ListsTheUserAndTheySignInWithThatRole()
    {
        var admin = await app.AdminAsync();
        var since = await app.LastAuditIdAsync();
        const string password = "Created-Pa55word!";
        app.PasswordsUsed.Add(password);

        var id = await Accounts.CreateAsync(admin.Actor, new NewConsoleUser("  Ops.Person@Example.test ", "Ops Person", "operator", password), CancellationToken.None);

        var e = await SingleEventSinceAsync(since);
        Assert.Equal((AuditActions.UserCreated, admin.Email, admin.Id, "Ops.Person@Example.test", AuditOutcome.Succeeded, "role Operator; must replace the initial password at first sign-in"),
            (e.Action, e.Actor, e.UserId, e.Target, e.Outcome, e.Detail));
        var listed = (await Accounts.ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == id);
        Assert.Equal(("Ops.Person@Example.test", "Ops Person", ConsoleRoles.Operator, false, false, (DateTimeOffset?)null),
            (listed.Email, listed.DisplayName, listed.Role, listed.IsDisabled, listed.IsLockedOut, listed.LastSignInAt));
        using var client = await app.SignedInClientAsync(new TestAccount(id, "ops.person@example.test", password, ConsoleRoles.Operator));
        Assert.NotNull((await Accounts.ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == id).LastSignInAt);
        await app.AssertNoPasswordLeakedAsync();
    }

    [Theory]
    [InlineData("weak@example.test", "Viewer", "short", "Passwords must be at least 12 characters.")]
    [InlineData("weak@example.test", "Viewer", "nouppercase-123!", "Passwords must have at least one uppercase")]
    [InlineData("weak@example.test", "Viewer", "Long-but-" + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-A1!", "at most 128 characters")]
    [InlineData("not-an-email", "Viewer", "Valid-Pa55word!", "Email 'not-an-email' is invalid.")]
    [InlineData("", "Viewer", "Valid-Pa55word!", "an email address is needed")]
    [InlineData("someone@example.test", "Superuser", "Valid-Pa55word!", "'Superuser' is not a console role")]
    [InlineData("someone@example.test", "Viewer", "", "an initial password is needed")]
    public async Task Create_BadInput_IsRefusedWithAReasonAndNothingIsCreated(string email, string role, string password, string because)
    {
        var admin = await app.AdminAsync();
        app.PasswordsUsed.Add(password);
        await using var before = await app.DbAsync();
        var users = await before.Users.CountAsync();
        var since = await app.LastAuditIdAsync();

        var e = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.CreateAsync(admin.Actor, new NewConsoleUser(email, null, role, password), CancellationToken.None));

        Assert.Contains(because, e.Message, StringComparison.Ordinal);
        Assert.EndsWith("Nothing was changed.", e.Message, StringComparison.Ordinal);
        if (password.Length > 0)
        {
            Assert.DoesNotContain(password, e.Message, StringComparison.Ordinal);
        }

        await using var after = await app.DbAsync();
        Assert.Equal(users, await after.Users.CountAsync());
        var audited = await SingleEventSinceAsync(since);
        Assert.Equal((AuditActions.UserCreated, AuditOutcome.Failed), (audited.Action, audited.Outcome));
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task Create_EmailAlreadyTaken_IsRefused()
    {
        var admin = await app.AdminAsync();
        var existing = await app.CreateAccountAsync(ConsoleRoles.Viewer);

        var e = await Assert.ThrowsAsync<UserAdministrationException>(() =>
            Accounts.CreateAsync(admin.Actor, new NewConsoleUser(existing.Email.ToUpperInvariant(), null, ConsoleRoles.Admin, "Another-Pa55word!"), CancellationToken.None));

        Assert.Contains("is already taken", e.Message, StringComparison.Ordinal);
        Assert.Equal(ConsoleRoles.Viewer, (await Accounts.ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == existing.Id).Role);
    }

    [Fact]
    public async Task ChangeRole_ToAnotherRole_ReplacesTheRoleAndAuditsFromAndTo()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        var since = await app.LastAuditIdAsync();

        await Accounts.ChangeRoleAsync(admin.Actor, viewer.Id, ConsoleRoles.Operator, CancellationToken.None);

        Assert.Equal(ConsoleRoles.Operator, (await Accounts.ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == viewer.Id).Role);
        await using var db = await app.DbAsync();
        Assert.Equal(1, await db.UserRoles.CountAsync(r => r.UserId == viewer.Id));
        var e = await SingleEventSinceAsync(since);
        Assert.Equal((AuditActions.UserRoleChanged, viewer.Email, AuditOutcome.Succeeded, "Viewer → Operator"), (e.Action, e.Target, e.Outcome, e.Detail));
    }

    [Fact]
    public async Task ChangeRole_ToTheSameRole_IsRefused()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);

        var e = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.ChangeRoleAsync(admin.Actor, viewer.Id, ConsoleRoles.Viewer, CancellationToken.None));

        Assert.Contains("already has the role Viewer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangeRole_OfTheOnlyActiveAdmin_IsRefusedEvenWhenTheyAskThemselves()
    {
        var admin = await app.AdminAsync();
        var since = await app.LastAuditIdAsync();

        var e = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.ChangeRoleAsync(admin.Actor, admin.Id, ConsoleRoles.Operator, CancellationToken.None));

        Assert.Contains("only active administrator", e.Message, StringComparison.Ordinal);
        Assert.Equal(ConsoleRoles.Admin, (await Accounts.ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == admin.Id).Role);
        var audited = await SingleEventSinceAsync(since);
        Assert.Equal((AuditActions.UserRoleChanged, AuditOutcome.Failed, admin.Email), (audited.Action, audited.Outcome, audited.Target));
    }

    [Fact]
    public async Task Disable_TheOnlyActiveAdminOrOneself_IsRefused()
    {
        var admin = await app.AdminAsync();
        var second = await app.CreateAccountAsync(ConsoleRoles.Admin);
        try
        {
            var self = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.DisableAsync(admin.Actor, admin.Id, CancellationToken.None));
            Assert.Contains("cannot disable your own account", self.Message, StringComparison.Ordinal);
        }
        finally
        {
            await Accounts.DisableAsync(admin.Actor, second.Id, CancellationToken.None);
        }

        // The second admin is disabled now, so the first is the only active one, whoever asks.
        var last = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.DisableAsync(Actor.System, admin.Id, CancellationToken.None));
        Assert.Contains("only active administrator", last.Message, StringComparison.Ordinal);
        Assert.False((await Accounts.ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == admin.Id).IsDisabled);
    }

    [Fact]
    public async Task ChangeRole_TwoAdminsDemotingEachOtherAtOnce_OneAdminRemains()
    {
        var first = await app.CreateAccountAsync(ConsoleRoles.Admin);
        var second = await app.CreateAccountAsync(ConsoleRoles.Admin);
        var envAdmin = await app.AdminAsync();
        // Make the two new ones the only active admins: the environment's admin steps aside for this test.
        await Accounts.ChangeRoleAsync(first.Actor, envAdmin.Id, ConsoleRoles.Viewer, CancellationToken.None);
        try
        {
            var results = await Task.WhenAll(
                Outcome(() => Accounts.ChangeRoleAsync(first.Actor, second.Id, ConsoleRoles.Viewer, CancellationToken.None)),
                Outcome(() => Accounts.ChangeRoleAsync(second.Actor, first.Id, ConsoleRoles.Viewer, CancellationToken.None)));

            Assert.Equal(1, results.Count(r => r));
            var admins = (await Accounts.ListAsync(Actor.System, CancellationToken.None)).Where(u => u.Role == ConsoleRoles.Admin && !u.IsDisabled).ToList();
            Assert.Single(admins);
        }
        finally
        {
            await Accounts.ChangeRoleAsync(Actor.System, envAdmin.Id, ConsoleRoles.Admin, CancellationToken.None);
            foreach (var u in new[] { first, second })
            {
                await Accounts.DisableAsync(Actor.System, u.Id, CancellationToken.None);
            }
        }

        static async Task<bool> Outcome(Func<Task> change)
        {
            try
            {
                await change();
                return true;
            }
            catch (Exception e) when (e is UserAdministrationException or PermissionDeniedException)
            {
                // Refused under the lock as the last admin, or before it because the other's demotion already landed.
                return false;
            }
        }
    }

    [Fact]
    public async Task DisableThenEnable_UserSignsInAgainWithTheirPassword()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        var since = await app.LastAuditIdAsync();

        await Accounts.DisableAsync(admin.Actor, viewer.Id, CancellationToken.None);
        Assert.True((await Accounts.ListAsync(admin.Actor, CancellationToken.None)).Single(u => u.Id == viewer.Id).IsDisabled);
        await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.DisableAsync(admin.Actor, viewer.Id, CancellationToken.None));
        await Accounts.EnableAsync(admin.Actor, viewer.Id, CancellationToken.None);

        using var client = await app.SignedInClientAsync(viewer);
        var events = (await app.AuditSinceAsync(since)).Where(e => e.Target == viewer.Email).Select(e => (e.Action, e.Outcome)).ToList();
        Assert.Equal([(AuditActions.UserDisabled, AuditOutcome.Succeeded), (AuditActions.UserDisabled, AuditOutcome.Failed), (AuditActions.UserEnabled, AuditOutcome.Succeeded)], events);
    }

    [Fact]
    public async Task Enable_UserWhoIsNotDisabled_IsRefused()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);

        var e = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.EnableAsync(admin.Actor, viewer.Id, CancellationToken.None));

        Assert.Contains("is not disabled", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetPassword_WeakPassword_IsRefusedAndTheOldPasswordStillWorks()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);
        app.PasswordsUsed.Add("weakpass");

        var e = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.ResetPasswordAsync(admin.Actor, viewer.Id, "weakpass", CancellationToken.None));

        Assert.Contains("Passwords must be at least 12 characters.", e.Message, StringComparison.Ordinal);
        using var client = await app.SignedInClientAsync(viewer);
        await app.AssertNoPasswordLeakedAsync();
    }

    [Fact]
    public async Task Unlock_UserWhoIsNotLockedOut_IsRefused()
    {
        var admin = await app.AdminAsync();
        var viewer = await app.CreateAccountAsync(ConsoleRoles.Viewer);

        var e = await Assert.ThrowsAsync<UserAdministrationException>(() => Accounts.UnlockAsync(admin.Actor, viewer.Id, CancellationToken.None));

        Assert.Contains("is not locked out", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyChange_OfAUserThatDoesNotExist_IsRefused()
    {
        var admin = await app.AdminAsync();
        var missing = Guid.NewGuid().ToString();

        foreach (var change in new Func<Task>[]
        {
            () => Accounts.ChangeRoleAsync(admin.Actor, missing, ConsoleRoles.Viewer, CancellationToken.None),
            () => Accounts.DisableAsync(admin.Actor, missing, CancellationToken.None),
            () => Accounts.EnableAsync(admin.Actor, missing, CancellationToken.None),
            () => Accounts.ResetPasswordAsync(admin.Actor, missing, "Whatever-Pa55word!", CancellationToken.None),
            () => Accounts.UnlockAsync(admin.Actor, missing, CancellationToken.None),
        })
        {
            var e = await Assert.ThrowsAsync<UserAdministrationException>(change);
            Assert.Contains("no longer exists", e.Message, StringComparison.Ordinal);
        }
    }
}
