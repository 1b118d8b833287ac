using Bunit;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Components;
using HelloJohn.Console.Web.Components.Account;
using MudBlazor;

namespace HelloJohn.Console.Tests.Security;

/// <summary>The Users page's parts for invites, first passwords and second factors.</summary>
[Trait("Capability", "Security")]
public sealed class AccountSecurityComponentTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 0, TimeSpan.Zero);

    private static ConsoleUserSummary User(string id, AccountSecurityState security) =>
        new(id, $"{id}@example.test", null, ConsoleRoles.Operator, false, null, 0, Created, null, security);

    [Fact]
    public void UsersTable_SignInColumn_SaysHowEachAccountSignsInAndOffersWhatFits()
    {
        var raised = new List<string>();
        var table = Render<UsersTable>(p => p
            .Add(t => t.Users,
            [
                User("invited", new AccountSecurityState(NoPasswordYet: true, false, false, Created.AddDays(3))),
                User("lapsed", new AccountSecurityState(NoPasswordYet: true, false, false, null)),
                User("fresh", new AccountSecurityState(false, MustChangePassword: true, false, null)),
                User("strong", new AccountSecurityState(false, false, TwoFactorEnabled: true, null)),
                User("me", new AccountSecurityState(false, false, TwoFactorEnabled: true, null)),
            ])
            .Add(t => t.CurrentUserId, "me")
            .Add(t => t.OnNewInviteLink, u => raised.Add("invite:" + u.Id))
            .Add(t => t.OnResetTwoFactor, u => raised.Add("2fa:" + u.Id)));

        var signIn = table.FindAll("[data-testid=user-sign-in]").Select(c => string.Join(" | ", c.QuerySelectorAll(".mud-chip").Select(x => x.TextContent.Trim()))).ToList();
        Assert.Equal(["invited · link until 2026-01-05 03:04", "no password · no valid link", "must choose a password | password", "password + 2FA", "password + 2FA"], signIn);
        Assert.Equal(2, table.FindAll("button[aria-label^='Invite link for']").Count);
        Assert.Single(table.FindAll("button[aria-label^='Turn off two-factor of']"));

        table.Find("button[aria-label='Invite link for invited@example.test']").Click();
        table.Find("button[aria-label='Turn off two-factor of strong@example.test']").Click();

        Assert.Equal(["invite:invited", "2fa:strong"], raised);
    }

    [Fact]
    public void NewUserForm_InviteLinkByDefault_SubmitsWithoutAPassword()
    {
        var submitted = new List<NewConsoleUser>();
        var form = Render<NewUserForm>(p => p.Add(f => f.Submit, user =>
        {
            submitted.Add(user);
            return Task.CompletedTask;
        }));
        Assert.Empty(form.FindAll("#new-user-password"));

        form.Find("#new-user-email").Change("ivy@example.test");
        form.Find("[data-testid=create-user]").Click();

        form.WaitForAssertion(() => Assert.Equal([new NewConsoleUser("ivy@example.test", null, ConsoleRoles.Viewer, null)], submitted));
    }

    [Fact]
    public async Task InviteLinkDialog_ShowsTheWholeLinkOnTheConsolesAddressAndWhenItExpires()
    {
        var provider = Render<MudDialogProvider>();
        var service = Context.Services.GetService(typeof(IDialogService)) as IDialogService;
        var link = new InviteLink("u1", "ivy@example.test", "tok-en_123", new DateTimeOffset(2026, 12, 2, 13, 6, 0, TimeSpan.Zero));

        await provider.InvokeAsync(() => service!.ShowAsync<InviteLinkDialog>("Invite link", new DialogParameters<InviteLinkDialog>
        {
            { d => d.Link, link },
            { d => d.BaseUri, "https://console.example.test/" },
        }));

        provider.WaitForAssertion(() => Assert.Equal("https://console.example.test/invite?token=tok-en_123", provider.Find("#invite-link").GetAttribute("value")));
        Assert.Contains("2026-12-02 13:06 UTC", provider.Markup);
    }
}
