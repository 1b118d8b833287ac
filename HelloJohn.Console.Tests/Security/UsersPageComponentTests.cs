using Bunit;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Components;
using HelloJohn.Console.Web.Components.Account;
using HelloJohn.Console.Web.Components.Pages;

namespace HelloJohn.Console.Tests.Security;

[Trait("Capability", "Security")]
public sealed class UsersPageComponentTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 0, TimeSpan.Zero);

    private static ConsoleUserSummary User(string id, string role, bool disabled = false, DateTimeOffset? lockedUntil = null, DateTimeOffset? lastSignIn = null) =>
        new(id, $"{id}@example.test", $"Name {id}", role, disabled, lockedUntil, lockedUntil is null ? 0 : 5, Created, lastSignIn);

    private IRenderedComponent<UsersTable> RenderTable(IReadOnlyList<ConsoleUserSummary> users, string currentUserId, List<string>? raised = null) =>
        Render<UsersTable>(p => p
            .Add(t => t.Users, users)
            .Add(t => t.CurrentUserId, currentUserId)
            .Add(t => t.OnDisable, u => raised?.Add("disable:" + u.Id))
            .Add(t => t.OnEnable, u => raised?.Add("enable:" + u.Id))
            .Add(t => t.OnUnlock, u => raised?.Add("unlock:" + u.Id))
            .Add(t => t.OnChangeRole, u => raised?.Add("role:" + u.Id))
            .Add(t => t.OnResetPassword, u => raised?.Add("reset:" + u.Id)));

    private static List<string> ButtonsOf(IRenderedComponent<UsersTable> table, string email) =>
        [.. table.FindAll("button[aria-label]").Select(b => b.GetAttribute("aria-label")!).Where(l => l.EndsWith(email, StringComparison.Ordinal)).Select(l => l[..l.IndexOf(' ')])];

    [Fact]
    public void UsersTable_EachUserState_OffersOnlyTheActionsThatApply()
    {
        var locked = Created.AddDays(30);
        var table = RenderTable(
        [
            User("me", ConsoleRoles.Admin, lastSignIn: Created.AddHours(1)),
            User("active", ConsoleRoles.Operator),
            User("off", ConsoleRoles.Viewer, disabled: true),
            User("locked", ConsoleRoles.Viewer, lockedUntil: locked),
        ], "me");

        Assert.Equal(["Change", "Reset"], ButtonsOf(table, "me@example.test"));
        Assert.Equal(["Change", "Reset", "Disable"], ButtonsOf(table, "active@example.test"));
        Assert.Equal(["Change", "Reset", "Enable"], ButtonsOf(table, "off@example.test"));
        Assert.Equal(["Change", "Reset", "Unlock", "Disable"], ButtonsOf(table, "locked@example.test"));
        var statuses = table.FindAll("[data-testid=user-status]").Select(s => s.TextContent.Trim()).ToList();
        Assert.Equal(["active", "active", "disabled", $"locked until {locked.UtcDateTime:HH:mm}"], statuses);
        Assert.Equal([ConsoleRoles.Admin, ConsoleRoles.Operator, ConsoleRoles.Viewer, ConsoleRoles.Viewer], table.FindAll("[data-testid=user-role]").Select(r => r.TextContent.Trim()));
        Assert.Contains("2026-01-02 04:04", table.Markup, StringComparison.Ordinal);
        Assert.Contains("never", table.Markup, StringComparison.Ordinal);
        Assert.Contains("you", table.Find("[data-testid=user-email]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void UsersTable_ActionButtons_RaiseTheirEventForThatUser()
    {
        var raised = new List<string>();
        var table = RenderTable([User("a", ConsoleRoles.Viewer), User("b", ConsoleRoles.Viewer, lockedUntil: Created.AddDays(1)), User("c", ConsoleRoles.Viewer, disabled: true)], "me", raised);

        table.Find("button[aria-label='Disable a@example.test']").Click();
        table.Find("button[aria-label='Unlock b@example.test']").Click();
        table.Find("button[aria-label='Enable c@example.test']").Click();
        table.Find("button[aria-label='Change role of b@example.test']").Click();
        table.Find("button[aria-label='Reset password of c@example.test']").Click();

        Assert.Equal(["disable:a", "unlock:b", "enable:c", "role:b", "reset:c"], raised);
    }

    private (IRenderedComponent<NewUserForm> Form, List<NewConsoleUser> Submitted) RenderNewUserForm(Exception? refuseWith = null)
    {
        var submitted = new List<NewConsoleUser>();
        var form = Render<NewUserForm>(p => p.Add(f => f.Submit, user =>
        {
            submitted.Add(user);
            return refuseWith is null ? Task.CompletedTask : Task.FromException(refuseWith);
        }));
        return (form, submitted);
    }

    private static void Fill(IRenderedComponent<NewUserForm> form, string email, string password, string confirm)
    {
        form.Find("input[data-testid=first-sign-in-password], [data-testid=first-sign-in-password] input").Click();
        form.Find("#new-user-email").Change(email);
        form.Find("#new-user-password").Change(password);
        form.Find("#new-user-confirm").Change(confirm);
    }

    [Theory]
    [InlineData("someone@example.test", "short-A1!", "short-A1!", "The password needs at least 12 characters.")]
    [InlineData("someone@example.test", "no-digits-here-Ab!", "no-digits-here-Ab!", "The password needs a digit.")]
    [InlineData("someone@example.test", "Good-Pa55word-1", "Good-Pa55word-2", "The two passwords differ.")]
    [InlineData("not an email", "Good-Pa55word-1", "Good-Pa55word-1", "This is not an email address.")]
    [InlineData("", "Good-Pa55word-1", "Good-Pa55word-1", "Enter an email address.")]
    public void NewUserForm_BadInput_ShowsWhyAndDoesNotSubmit(string email, string password, string confirm, string because)
    {
        var (form, submitted) = RenderNewUserForm();
        Fill(form, email, password, confirm);

        form.Find("[data-testid=create-user]").Click();

        Assert.Empty(submitted);
        form.WaitForAssertion(() => Assert.Contains(because, form.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public void NewUserForm_ValidInput_SubmitsTheChosenRoleAndTrimmedEmail()
    {
        var (form, submitted) = RenderNewUserForm();
        Fill(form, "  new.operator@example.test ", "Good-Pa55word-1", "Good-Pa55word-1");
        form.Find("#new-user-name").Change("New Operator");
        form.FindAll("input[type=radio]")[1].Click();

        form.Find("[data-testid=create-user]").Click();

        form.WaitForAssertion(() => Assert.Equal([new NewConsoleUser("new.operator@example.test", "New Operator", ConsoleRoles.Operator, "Good-Pa55word-1")], submitted));
    }

    [Fact]
    public void NewUserForm_ServerRefuses_ShowsTheReasonInPlace()
    {
        var (form, submitted) = RenderNewUserForm(new UserAdministrationException("The user was not created: Email 'x@example.test' is already taken. Nothing was changed."));
        Fill(form, "x@example.test", "Good-Pa55word-1", "Good-Pa55word-1");

        form.Find("[data-testid=create-user]").Click();

        form.WaitForAssertion(() => Assert.Equal("The user was not created: Email 'x@example.test' is already taken. Nothing was changed.", form.Find("[data-testid=form-error]").TextContent.Trim()));
        Assert.Single(submitted);
    }

    [Fact]
    public void PasswordResetForm_MatchingStrongPassword_SubmitsItAndMismatchDoesNot()
    {
        var submitted = new List<string>();
        var form = Render<PasswordResetForm>(p => p
            .Add(f => f.Email, "who@example.test")
            .Add(f => f.Submit, pw =>
            {
                submitted.Add(pw);
                return Task.CompletedTask;
            }));
        Assert.Contains("who@example.test", form.Markup, StringComparison.Ordinal);

        form.Find("#reset-password").Change("Fresh-Pa55word-1");
        form.Find("#reset-confirm").Change("Fresh-Pa55word-2");
        form.Find("[data-testid=set-password]").Click();
        form.WaitForAssertion(() => Assert.Contains("The two passwords differ.", form.Markup, StringComparison.Ordinal));
        Assert.Empty(submitted);

        form.Find("#reset-confirm").Change("Fresh-Pa55word-1");
        form.Find("[data-testid=set-password]").Click();
        form.WaitForAssertion(() => Assert.Equal(["Fresh-Pa55word-1"], submitted));
    }

    [Theory]
    [InlineData("Abcdefghijk1!", new string[0])]
    [InlineData("abc", new[] { "at least 12 characters", "an upper case letter", "a digit", "a symbol" })]
    [InlineData("ABCDEFGHIJKL1!", new[] { "a lower case letter" })]
    public void PasswordPolicy_Problems_NameWhatIsMissing(string password, string[] problems) =>
        Assert.Equal(problems, PasswordPolicy.Problems(password));

    [Fact]
    public void AuditFilter_FromDates_CoversWholeUtcDaysWithTheEndDayIncluded()
    {
        var filter = Audit.BuildFilter("  ann ", AuditActions.SignInFailed, AuditOutcome.Denied, new DateTime(2026, 3, 1, 15, 0, 0), new DateTime(2026, 3, 3), out var problem);

        Assert.Null(problem);
        Assert.Equal(new AuditFilter("ann", AuditActions.SignInFailed, AuditOutcome.Denied,
            new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 4, 0, 0, 0, TimeSpan.Zero)), filter);
    }

    [Fact]
    public void AuditFilter_EndBeforeStart_IsRefusedWithAReason()
    {
        var filter = Audit.BuildFilter(null, null, null, new DateTime(2026, 3, 2), new DateTime(2026, 3, 1), out var problem);

        Assert.Null(filter);
        Assert.Contains("end date is before the start date", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("+1", "'+1")]
    public void CsvCell_EscapesQuotesAndDefusesFormulas(string? value, string expected) =>
        Assert.Equal(expected, AuditQueryService.Cell(value));
}
