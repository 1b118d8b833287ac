using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Web.Components.Account;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Pages;

public partial class Users
{
    private static readonly DialogOptions FormDialog = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true };
    private IReadOnlyList<ConsoleUserSummary>? _users;
    private Actor _actor = new(null, "anonymous", []);
    private string? _error;
    private bool _twoFactorRequired;

    [Inject] private UserAdministrationService Accounts { get; set; } = default!;
    [Inject] private AccountInviteService Invites { get; set; } = default!;
    [Inject] private TwoFactorAdministration TwoFactor { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _twoFactorRequired = await TwoFactor.IsRequiredForAdminsAsync(CancellationToken.None);
        await ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        try
        {
            _users = await Accounts.ListAsync(_actor, CancellationToken.None);
        }
        catch (PermissionDeniedException e)
        {
            _users = [];
            _error = e.Message;
        }
    }

    private async Task NewUserAsync()
    {
        var parameters = new DialogParameters<NewUserDialog>
        {
            { d => d.Create, CreateAsync },
        };
        var result = await (await Dialogs.ShowAsync<NewUserDialog>("New user", parameters, FormDialog)).Result;
        if (result is { Canceled: false, Data: string email })
        {
            Snackbar.Add($"Created {email}. They choose their own password at their first sign-in.", Severity.Success);
        }

        await ReloadAsync();
        if (result is { Canceled: false, Data: InviteLink link })
        {
            await ShowInviteLinkAsync(link);
        }
    }

    private async Task<InviteLink?> CreateAsync(NewConsoleUser user)
    {
        if (user.InitialPassword is not null)
        {
            await Accounts.CreateAsync(_actor, user, CancellationToken.None);
            return null;
        }

        return await Invites.InviteAsync(_actor, new NewConsoleInvitee(user.Email, user.DisplayName, user.Role), CancellationToken.None);
    }

    private async Task ShowInviteLinkAsync(InviteLink link)
    {
        var parameters = new DialogParameters<InviteLinkDialog> { { d => d.Link, link }, { d => d.BaseUri, Navigation.BaseUri } };
        await (await Dialogs.ShowAsync<InviteLinkDialog>($"Invite link for {link.Email}", parameters, FormDialog)).Result;
    }

    private async Task NewInviteLinkAsync(ConsoleUserSummary user)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("New invite link",
            $"{user.Email} gets a new one-time link to choose their password; an earlier link stops working.", yesText: "Make the link", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        _error = null;
        try
        {
            var link = await Invites.IssueAsync(_actor, user.Id, CancellationToken.None);
            await ReloadAsync();
            await ShowInviteLinkAsync(link);
        }
        catch (Exception e) when (e is UserAdministrationException or PermissionDeniedException)
        {
            _error = e.Message;
        }
    }

    private Task ResetTwoFactorAsync(ConsoleUserSummary user) =>
        ConfirmThenAsync("Turn off two-factor sign-in",
            $"{user.Email} will be signed out and can then sign in with their password alone, and set up a new authenticator. Do this only when you know it is them (a lost phone).",
            "Turn it off", () => TwoFactor.ResetAsync(_actor, user.Id, CancellationToken.None), $"Two-factor sign-in turned off for {user.Email}.");

    private async Task SetTwoFactorRequiredAsync(bool required)
    {
        _error = null;
        try
        {
            await TwoFactor.SetRequiredForAdminsAsync(_actor, required, CancellationToken.None);
            _twoFactorRequired = required;
            Snackbar.Add(required ? "Administrators must now sign in with a second factor." : "Two-factor sign-in is optional for administrators again.", Severity.Success);
        }
        catch (Exception e) when (e is UserAdministrationException or PermissionDeniedException)
        {
            _error = e.Message;
        }
    }

    private async Task ChangeRoleAsync(ConsoleUserSummary user)
    {
        var parameters = new DialogParameters<ChangeRoleDialog>
        {
            { d => d.Email, user.Email },
            { d => d.CurrentRole, user.Role },
            { d => d.Change, role => Accounts.ChangeRoleAsync(_actor, user.Id, role, CancellationToken.None) },
        };
        var result = await (await Dialogs.ShowAsync<ChangeRoleDialog>("Change role", parameters, FormDialog)).Result;
        if (result is { Canceled: false, Data: string role })
        {
            Snackbar.Add($"{user.Email} is now {role}.", Severity.Success);
            await ReloadAsync();
        }
    }

    private async Task ResetPasswordAsync(ConsoleUserSummary user)
    {
        var parameters = new DialogParameters<ResetPasswordDialog>
        {
            { d => d.Email, user.Email },
            { d => d.Reset, password => Accounts.ResetPasswordAsync(_actor, user.Id, password, CancellationToken.None) },
        };
        var result = await (await Dialogs.ShowAsync<ResetPasswordDialog>("Reset password", parameters, FormDialog)).Result;
        if (result is { Canceled: false })
        {
            Snackbar.Add($"New password set for {user.Email}.", Severity.Success);
            await ReloadAsync();
        }
    }

    private Task DisableAsync(ConsoleUserSummary user) =>
        ConfirmThenAsync("Disable user", $"{user.Email} will be signed out and cannot sign in until enabled again.", "Disable",
            () => Accounts.DisableAsync(_actor, user.Id, CancellationToken.None), $"Disabled {user.Email}.");

    private Task EnableAsync(ConsoleUserSummary user) =>
        ConfirmThenAsync("Enable user", $"{user.Email} will be able to sign in again with their current password.", "Enable",
            () => Accounts.EnableAsync(_actor, user.Id, CancellationToken.None), $"Enabled {user.Email}.");

    private Task UnlockAsync(ConsoleUserSummary user) =>
        ConfirmThenAsync("Unlock user", $"{user.Email} is locked out after repeated failed sign-ins. Unlock them now?", "Unlock",
            () => Accounts.UnlockAsync(_actor, user.Id, CancellationToken.None), $"Unlocked {user.Email}.");

    private async Task ConfirmThenAsync(string title, string message, string yes, Func<Task> change, string done)
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync(title, message, yesText: yes, cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }

        _error = null;
        try
        {
            await change();
            Snackbar.Add(done, Severity.Success);
        }
        catch (Exception e) when (e is UserAdministrationException or PermissionDeniedException)
        {
            _error = e.Message;
        }

        await ReloadAsync();
    }
}
