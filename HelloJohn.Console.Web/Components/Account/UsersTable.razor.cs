using System.Globalization;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Account;

/// <summary>The console's accounts with their role and state, and the actions an administrator may take on each.
/// Nobody is offered to disable their own account.</summary>
public partial class UsersTable
{
    /// <summary>The accounts to list.</summary>
    [Parameter, EditorRequired]
    public IReadOnlyList<ConsoleUserSummary> Users { get; set; } = [];

    /// <summary>The signed-in administrator's user id, whose own row offers no Disable.</summary>
    [Parameter]
    public string? CurrentUserId { get; set; }

    /// <summary>Raised when the administrator asks to change a user's role.</summary>
    [Parameter]
    public EventCallback<ConsoleUserSummary> OnChangeRole { get; set; }

    /// <summary>Raised when the administrator asks to set a new password for a user.</summary>
    [Parameter]
    public EventCallback<ConsoleUserSummary> OnResetPassword { get; set; }

    /// <summary>Raised when the administrator asks to disable a user.</summary>
    [Parameter]
    public EventCallback<ConsoleUserSummary> OnDisable { get; set; }

    /// <summary>Raised when the administrator asks to enable a disabled user.</summary>
    [Parameter]
    public EventCallback<ConsoleUserSummary> OnEnable { get; set; }

    /// <summary>Raised when the administrator asks to lift a lockout.</summary>
    [Parameter]
    public EventCallback<ConsoleUserSummary> OnUnlock { get; set; }

    /// <summary>Raised when the administrator asks for a new invite link for an account that has no password yet.</summary>
    [Parameter]
    public EventCallback<ConsoleUserSummary> OnNewInviteLink { get; set; }

    /// <summary>Raised when the administrator asks to turn off someone's two-factor sign-in (a lost phone).</summary>
    [Parameter]
    public EventCallback<ConsoleUserSummary> OnResetTwoFactor { get; set; }

    private bool IsCurrentUser(ConsoleUserSummary user) => CurrentUserId is not null && user.Id == CurrentUserId;

    internal static Color RoleColor(string? role) => role switch
    {
        ConsoleRoles.Admin => Color.Primary,
        ConsoleRoles.Operator => Color.Info,
        ConsoleRoles.Viewer => Color.Default,
        _ => Color.Error,
    };

    /// <summary>How the account signs in, in words: invited (and until when the link works), must replace an
    /// administrator's password, password only or with a second factor.</summary>
    internal static IEnumerable<(string Text, Color Color)> SignInChips(AccountSecurityState state)
    {
        if (state.NoPasswordYet)
        {
            yield return state.InviteExpiresAt is { } until
                ? ($"invited · link until {until.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}", Color.Info)
                : ("no password · no valid link", Color.Warning);
            yield break;
        }

        if (state.MustChangePassword)
        {
            yield return ("must choose a password", Color.Warning);
        }

        yield return state.TwoFactorEnabled ? ("password + 2FA", Color.Success) : ("password", Color.Default);
    }

    internal static string FormatTime(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "never";
}
