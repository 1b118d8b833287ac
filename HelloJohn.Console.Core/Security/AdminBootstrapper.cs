using Microsoft.AspNetCore.Identity;
using HelloJohn.Console.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Security;

/// <summary>Creates the roles and, when no administrator exists, the first one: from the environment, or generated on
/// the embedded default (its password printed once, to the console only). Otherwise the setup page stays open.</summary>
internal sealed class AdminBootstrapper(IServiceScopeFactory scopes, FirstAdminSetup setup, IOptions<AdminBootstrapOptions> options, ILogger<AdminBootstrapper> logger) : IConsoleStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
            foreach (var role in ConsoleRoles.All)
            {
                if (!await roles.RoleExistsAsync(role))
                {
                    await roles.CreateAsync(new IdentityRole(role));
                }
            }
        }

        if (!await setup.IsOpenAsync(ct))
        {
            return;
        }

        var o = options.Value;
        FirstAdminRequest request;
        string how;
        var generated = false;
        if (!string.IsNullOrWhiteSpace(o.Email) && !string.IsNullOrWhiteSpace(o.Password))
        {
            request = new FirstAdminRequest(o.Email.Trim(), "Administrator", o.Password);
            how = "from HELLOJOHN_CONSOLE_ADMIN_EMAIL at start";
        }
        else if (o.GenerateWhenMissing)
        {
            request = new FirstAdminRequest("admin@localhost", "Administrator", GeneratePassword());
            how = "generated for the embedded console at start";
            generated = true;
        }
        else
        {
            logger.LogWarning("No administrator exists. Open /setup in the browser to create the first one, or set HELLOJOHN_CONSOLE_ADMIN_EMAIL and HELLOJOHN_CONSOLE_ADMIN_PASSWORD.");
            return;
        }

        try
        {
            await setup.CreateFirstAdminAsync(request, Actor.System, how, ct);
        }
        catch (SetupClosedException)
        {
            // Another console instance sharing this database created one a moment ago.
            return;
        }
        catch (UserAdministrationException e)
        {
            throw new InvalidOperationException(
                $"{e.Message} Fix HELLOJOHN_CONSOLE_ADMIN_EMAIL/HELLOJOHN_CONSOLE_ADMIN_PASSWORD (at least 12 characters with upper and lower case, a digit and a symbol), or unset both and use /setup.");
        }

        if (generated)
        {
            // Printed straight to the terminal that started the console, once; never written to the log pipeline.
            System.Console.WriteLine();
            System.Console.WriteLine("  First administrator created for this embedded console:");
            System.Console.WriteLine($"    email:    {request.Email}");
            System.Console.WriteLine($"    password: {request.Password}");
            System.Console.WriteLine("  It is shown only this once. Change it under Users after signing in.");
            System.Console.WriteLine();
        }
        else
        {
            logger.LogInformation("Created the first administrator {Email} from the environment", request.Email);
        }
    }

    private static string GeneratePassword()
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        var chars = System.Security.Cryptography.RandomNumberGenerator.GetItems<char>(alphabet, 16);
        // Meets the password policy (upper, lower, digit, symbol) whatever the random draw.
        return new string(chars) + "-A7z";
    }
}
