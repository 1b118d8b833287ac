using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using QRCoder;

namespace HelloJohn.Console.Web.Components.Account;

/// <summary>A person sets up, renews or turns off their own two-factor sign-in. A static page posting to itself: every
/// change renews the account's security stamp, so the sign-in cookie is re-issued on the same response.</summary>
public partial class TwoFactorSetup
{
    private ConsoleUser? _user;
    private string? _email;
    private AuthenticatorSetup? _setup;
    private string? _qrSvg;
    private IReadOnlyList<string>? _recoveryCodes;
    private string? _error;
    private bool _mayTurnOff = true;

    [CascadingParameter] private HttpContext HttpContext { get; set; } = default!;
    [Inject] private UserManager<ConsoleUser> Users { get; set; } = default!;
    [Inject] private SignInManager<ConsoleUser> SignIn { get; set; } = default!;
    [Inject] private TwoFactorEnrollment Enrollment { get; set; } = default!;
    [Inject] private TwoFactorAdministration Policy { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "required")]
    private string? Required { get; set; }

    [SupplyParameterFromForm]
    private string? Code { get; set; }

    [SupplyParameterFromForm]
    private string? Password { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _user = await Users.GetUserAsync(HttpContext.User);
        if (_user is null)
        {
            Navigation.NavigateTo("/signin");
            return;
        }

        _email = _user.Email;
        _mayTurnOff = !(await Users.IsInRoleAsync(_user, ConsoleRoles.Admin) && await Policy.IsRequiredForAdminsAsync(HttpContext.RequestAborted));
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        var (setup, keyCreated) = await Enrollment.GetSetupAsync(_user!);
        if (keyCreated)
        {
            // A new key renews the stamp: without a new cookie this session would end at its next check.
            await SignIn.RefreshSignInAsync(_user!);
        }

        _setup = setup;
        if (!setup.Enabled)
        {
            using var generator = new QRCodeGenerator();
            using var data = generator.CreateQrCode(setup.OtpAuthUri, QRCodeGenerator.ECCLevel.M);
            _qrSvg = new SvgQRCode(data).GetGraphic(4);
        }
    }

    private async Task EnableAsync()
    {
        var codes = await Enrollment.EnableAsync(_user!, Code);
        if (codes is null)
        {
            _error = "That code is not right. Check that the app shows HelloJohn Console and type its current code (it changes every 30 seconds).";
            return;
        }

        await SignIn.RefreshSignInAsync(_user!);
        _recoveryCodes = codes;
    }

    private async Task RenewCodesAsync()
    {
        try
        {
            _recoveryCodes = await Enrollment.RenewRecoveryCodesAsync(_user!);
        }
        catch (UserAdministrationException e)
        {
            _error = e.Message;
        }
    }

    private async Task TurnOffAsync()
    {
        if (!_mayTurnOff)
        {
            _error = "Administrators must use two-factor sign-in on this console; it stays on.";
            return;
        }

        if (!await Enrollment.DisableAsync(_user!, Password))
        {
            _error = "The password is not right. Two-factor sign-in stays on; repeated failures lock the account.";
            return;
        }

        await SignIn.RefreshSignInAsync(_user!);
        await LoadAsync();
    }
}
