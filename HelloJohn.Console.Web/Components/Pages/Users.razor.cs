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

    [Inject] private UserAdministrationService Accounts { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
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
            { d => d.Create, user => Accounts.CreateAsync(_actor, user, CancellationToken.None) },
        };
        var result = await (await Dialogs.ShowAsync<NewUserDialog>("New user", parameters, FormDialog)).Result;
        if (result is { Canceled: false, Data: string email })
        {
            Snackbar.Add($"Created {email}.", Severity.Success);
            await ReloadAsync();
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
