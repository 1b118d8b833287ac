using System.ComponentModel.DataAnnotations;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Account;

/// <summary>Email, display name, role and first sign-in (an invite link, or an initial password the person must replace) of
/// a new account. Checks what it can before asking the server; the server's refusal (a taken email, the password policy)
/// is shown in place and the form stays filled.</summary>
public partial class NewUserForm
{
    private static readonly EmailAddressAttribute EmailFormat = new();
    private MudForm? _form;
    private string _email = "";
    private string? _displayName;
    private string? _role = ConsoleRoles.Viewer;
    private string _password = "";
    private string _confirm = "";
    private bool _invite = true;
    private string? _error;
    private bool _busy;

    /// <summary>Creates the account (with a null password for an invite link); throws <see cref="UserAdministrationException"/>
    /// when refused.</summary>
    [Parameter, EditorRequired]
    public Func<NewConsoleUser, Task> Submit { get; set; } = default!;

    /// <summary>Raised when the administrator gives up.</summary>
    [Parameter]
    public EventCallback OnCancel { get; set; }

    private static string? CheckEmail(string? email) =>
        string.IsNullOrWhiteSpace(email) || EmailFormat.IsValid(email.Trim()) ? null : "This is not an email address.";

    internal static string? CheckPassword(string? password)
    {
        var problems = PasswordPolicy.Problems(password);
        return problems.Count == 0 ? null : "The password needs " + string.Join(", ", problems) + ".";
    }

    private string? CheckConfirm(string? confirm) => confirm == _password ? null : "The two passwords differ.";

    private async Task SubmitAsync()
    {
        _error = null;
        await _form!.ValidateAsync();
        if (!_form.IsValid)
        {
            return;
        }

        if (_role is null)
        {
            _error = "Pick a role.";
            return;
        }

        _busy = true;
        try
        {
            await Submit(new NewConsoleUser(_email.Trim(), _displayName, _role, _invite ? null : _password));
        }
        catch (Exception e) when (e is UserAdministrationException or PermissionDeniedException)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }
}
