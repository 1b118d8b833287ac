using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Security;

/// <summary>Creates the roles and, when no administrator exists, the first one: from the environment, or generated on
/// the embedded default (its password printed once, to the console only).</summary>
internal sealed class AdminBootstrapper(IServiceScopeFactory scopes, IOptions<AdminBootstrapOptions> options, TimeProvider time, ILogger<AdminBootstrapper> logger) : IConsoleStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in ConsoleRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        if ((await users.GetUsersInRoleAsync(ConsoleRoles.Admin)).Count > 0)
        {
            return;
        }

        var o = options.Value;
        string email;
        string password;
        var generated = false;
        if (!string.IsNullOrWhiteSpace(o.Email) && !string.IsNullOrWhiteSpace(o.Password))
        {
            email = o.Email.Trim();
            password = o.Password;
        }
        else if (o.GenerateWhenMissing)
        {
            email = "admin@localhost";
            password = GeneratePassword();
            generated = true;
        }
        else
        {
            logger.LogWarning("No administrator exists. Open /setup in the browser to create the first one, or set HELLOJOHN_CONSOLE_ADMIN_EMAIL and HELLOJOHN_CONSOLE_ADMIN_PASSWORD.");
            return;
        }

        var user = new ConsoleUser { UserName = email, Email = email, EmailConfirmed = true, DisplayName = "Administrator", CreatedAt = time.GetUtcNow() };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            throw new InvalidOperationException("The first administrator could not be created from HELLOJOHN_CONSOLE_ADMIN_EMAIL/HELLOJOHN_CONSOLE_ADMIN_PASSWORD: " +
                string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        await users.AddToRoleAsync(user, ConsoleRoles.Admin);
        if (generated)
        {
            // Printed straight to the terminal that started the console, once; never written to the log pipeline.
            System.Console.WriteLine();
            System.Console.WriteLine("  First administrator created for this embedded console:");
            System.Console.WriteLine($"    email:    {email}");
            System.Console.WriteLine($"    password: {password}");
            System.Console.WriteLine("  It is shown only this once. Change it under Users after signing in.");
            System.Console.WriteLine();
        }
        else
        {
            logger.LogInformation("Created the first administrator {Email} from the environment", email);
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
