using System.ComponentModel.DataAnnotations;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;

namespace HelloJohn.Console.Web.Components.Account;

/// <summary>The one-time setup page: creates the first administrator while none exists. A static form (no circuit), so
/// it works before anyone can sign in; once an administrator exists every request, a crafted POST included, is sent to
/// sign-in and nothing is created.</summary>
public partial class Setup
{
    private string? _error;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = default!;

    [SupplyParameterFromForm(FormName = "setup")]
    private SetupInput Input { get; set; } = default!;

    [Inject] private FirstAdminSetup FirstAdmin { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        Input ??= new SetupInput();
        // A POST goes on to SubmitAsync, where the service refuses it under its lock and audits the attempt.
        if (!HttpMethods.IsPost(HttpContext.Request.Method) && !await FirstAdmin.IsOpenAsync(HttpContext.RequestAborted))
        {
            Navigation.NavigateTo("/signin");
        }
    }

    private async Task SubmitAsync(EditContext context)
    {
        var open = await FirstAdmin.IsOpenAsync(HttpContext.RequestAborted);
        // While setup is open, invalid input is shown; once closed, the service is asked anyway so the attempt is audited.
        if (open && !context.Validate())
        {
            ForgetPasswords();
            return;
        }

        try
        {
            var how = $"on the setup page from {HttpContext.Connection.RemoteIpAddress?.ToString() ?? "an unknown address"}";
            await FirstAdmin.CreateFirstAdminAsync(new FirstAdminRequest(Input.Email, Input.DisplayName, Input.Password), null, how, HttpContext.RequestAborted);
        }
        catch (SetupClosedException)
        {
            Navigation.NavigateTo("/signin");
            return;
        }
        catch (UserAdministrationException e)
        {
            _error = e.Message;
            ForgetPasswords();
            return;
        }

        Navigation.NavigateTo("/signin?setup=done");
    }

    // The page is rendered again to show what was wrong; a password must not travel back inside it.
    private void ForgetPasswords() => (Input.Password, Input.ConfirmPassword) = ("", "");

    internal sealed class SetupInput
    {
        [Required(ErrorMessage = "Enter the administrator's email address.")]
        [EmailAddress(ErrorMessage = "This is not an email address.")]
        [MaxLength(256)]
        public string Email { get; set; } = "";

        [MaxLength(128)]
        public string? DisplayName { get; set; }

        [Required(ErrorMessage = "Choose a password.")]
        [MinLength(12, ErrorMessage = "The password needs at least 12 characters.")]
        [MaxLength(128)]
        public string Password { get; set; } = "";

        [Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
        public string ConfirmPassword { get; set; } = "";
    }
}
