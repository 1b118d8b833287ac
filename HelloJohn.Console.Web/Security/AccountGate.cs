using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Web.Security;

/// <summary>Holds a signed-in person at one page until their account is in order, before anything else: a password
/// an administrator chose must be replaced, and an Admin must set up two-factor sign-in when administrators require it.
/// Pages are redirected there; other requests (the API, downloads) are refused with the reason.</summary>
public sealed class AccountGate(RequestDelegate next)
{
    public const string ChangePasswordPath = "/account/password";
    public const string TwoFactorPath = "/account/two-factor";
    public const string TwoFactorSignInPath = "/signin/two-factor";

    // Reachable while held: the page that releases the hold, signing out, and the framework's own files.
    private static readonly string[] AlwaysOpen = ["/account/signout", "/signin", "/_framework/", "/_content/", "/health"];

    public async Task InvokeAsync(HttpContext http, TwoFactorAdministration twoFactor)
    {
        var user = http.User;
        if (user.Identity?.IsAuthenticated == true && !Open(http.Request.Path, AlwaysOpen))
        {
            var holdAt = user.HasClaim(ConsoleClaims.MustChangePassword, "true") ? ChangePasswordPath
                : user.IsInRole(ConsoleRoles.Admin) && !user.HasClaim(ConsoleClaims.TwoFactor, "true")
                    && !Open(http.Request.Path, [ChangePasswordPath]) && await twoFactor.IsRequiredForAdminsAsync(http.RequestAborted) ? TwoFactorPath
                : null;
            if (holdAt is not null && !Open(http.Request.Path, [holdAt]))
            {
                await HoldAsync(http, holdAt);
                return;
            }
        }

        await next(http);
    }

    private static bool Open(PathString path, string[] prefixes) =>
        prefixes.Any(p => path.StartsWithSegments(p.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));

    private static Task HoldAsync(HttpContext http, string holdAt)
    {
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            http.Response.Redirect(holdAt == ChangePasswordPath ? $"{holdAt}?first=1" : $"{holdAt}?required=1");
            return Task.CompletedTask;
        }

        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        http.Response.ContentType = "text/plain; charset=utf-8";
        return http.Response.WriteAsync(holdAt == ChangePasswordPath
            ? "Choose your own password first (an administrator set the current one): open /account/password. Nothing was done."
            : "Administrators must sign in with a second factor: set it up at /account/two-factor. Nothing was done.");
    }
}
