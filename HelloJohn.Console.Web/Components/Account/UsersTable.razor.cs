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

    private bool IsCurrentUser(ConsoleUserSummary user) => CurrentUserId is not null && user.Id == CurrentUserId;

    internal static Color RoleColor(string? role) => role switch
    {
        ConsoleRoles.Admin => Color.Primary,
        ConsoleRoles.Operator => Color.Info,
        ConsoleRoles.Viewer => Color.Default,
        _ => Color.Error,
    };

    internal static string FormatTime(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "never";
}
