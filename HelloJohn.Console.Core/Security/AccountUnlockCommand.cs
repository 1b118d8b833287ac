using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HelloJohn.Console.Core.Security;

/// <summary>The way back in when the only administrator is locked out: <c>./run.sh unlock-user &lt;email&gt;</c> (or
/// <c>dotnet HelloJohn.Console.Web.dll --unlock-user &lt;email&gt;</c>) on the console's host lifts the lockout and
/// clears the failed sign-ins, and the audit trail records it as done on that host. It needs what the console itself
/// needs (its configuration and database), which only its operators hold; the web server is not started.</summary>
public static class AccountUnlockCommand
{
    public const string Argument = "--unlock-user";

    /// <summary>Whether the command line asks for an unlock; <paramref name="email"/> is empty when the address is missing.</summary>
    public static bool Requested(string[] args, out string email)
    {
        var at = Array.IndexOf(args, Argument);
        email = at >= 0 && at + 1 < args.Length ? args[at + 1].Trim() : "";
        return at >= 0;
    }

    /// <summary>Unlocks the account and returns the process exit code (0 when unlocked, 2 when there is no such account).</summary>
    public static async Task<int> RunAsync(IServiceProvider services, string email, TextWriter output, CancellationToken ct = default)
    {
        try
        {
            return await UnlockAsync(services, email, output, ct);
        }
        finally
        {
            // The embedded cluster was started only for this command: leave the machine as it was.
            if (services.GetService<EmbeddedDefault>() is { Cluster.ReusedRunningServer: false } embedded)
            {
                await embedded.Cluster.StopAsync(CancellationToken.None);
            }
        }
    }

    private static async Task<int> UnlockAsync(IServiceProvider services, string email, TextWriter output, CancellationToken ct)
    {
        if (email.Length == 0)
        {
            await output.WriteLineAsync($"Give the account's email address: ./run.sh unlock-user admin@example.com (or {Argument} admin@example.com). Nothing was changed.");
            return 2;
        }

        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        var audit = services.GetRequiredService<IAuditLog>();
        var time = services.GetRequiredService<TimeProvider>();
        var host = new Actor(null, $"unlock-user command on {Environment.MachineName}", []);
        ConsoleUser? user;
        try
        {
            user = await users.FindByEmailAsync(email);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            await output.WriteLineAsync("The console database has no accounts yet: start the console once (./run.sh) and sign in with the administrator it creates. Nothing was changed.");
            return 2;
        }

        if (user is null)
        {
            await output.WriteLineAsync($"No console account has the email {email}. Nothing was changed. The Users page lists the accounts.");
            return 2;
        }

        var lockedUntil = user.LockoutEnd is { } end && end > time.GetUtcNow() ? end : (DateTimeOffset?)null;
        var failures = user.AccessFailedCount;
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        var what = lockedUntil is { } until
            ? $"Unlocked {email} (it was locked until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC after {failures} failed sign-ins)."
            : $"{email} was not locked; its {failures} failed sign-in(s) were cleared.";
        await audit.RecordAsync(host, AuditActions.UserUnlocked, email, AuditOutcome.Succeeded, $"{what} Done on the console's host.", ct);
        await output.WriteLineAsync(what + (user.IsDisabled ? " The account is still disabled: an administrator enables it on the Users page." : " It can sign in again now."));
        return 0;
    }
}
