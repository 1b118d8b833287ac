using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Core.Security;

/// <summary>Creates the console's first administrator, exactly once: from the environment at start, or on the one-time
/// setup page. Once any account holds the Admin role (even a disabled one) setup is closed for good, so nobody can
/// claim the console by reaching /setup later.</summary>
public sealed class FirstAdminSetup(IServiceScopeFactory scopes, IDbContextFactory<ConsoleDbContext> dbFactory, IAuditLog audit, TimeProvider time)
{
    public async Task<bool> IsOpenAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return !await AnyAdminAsync(db, ct);
    }

    /// <summary>Creates the first administrator with the password policy. Throws <see cref="SetupClosedException"/> when an
    /// administrator already exists and <see cref="UserAdministrationException"/> when the details are refused.</summary>
    /// <param name="performedBy">Who the audit event names: <see cref="Actor.System"/> from the environment, or null for
    /// the person on the setup page (then the new administrator).</param>
    /// <param name="how">Where the request came from, for the audit detail (never the password).</param>
    public async Task<string> CreateFirstAdminAsync(FirstAdminRequest request, Actor? performedBy, string how, CancellationToken ct)
    {
        var email = request.Email?.Trim() ?? "";
        var actor = performedBy ?? new Actor(null, string.IsNullOrEmpty(email) ? "(setup page)" : email, []);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConsoleDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await AccountChangeLock.AcquireAsync(db, ct);
            if (await AnyAdminAsync(db, ct))
            {
                throw new SetupClosedException();
            }

            if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(request.Password))
            {
                throw new UserAdministrationException("The administrator was not created: both an email address and a password are needed.");
            }

            var user = new ConsoleUser
            {
                UserName = email,
                Email = email,
                EmailConfirmed = true,
                DisplayName = string.IsNullOrWhiteSpace(request.DisplayName) ? "Administrator" : request.DisplayName.Trim(),
                CreatedAt = time.GetUtcNow(),
            };
            var created = await users.CreateAsync(user, request.Password);
            if (created.Succeeded)
            {
                created = await users.AddToRoleAsync(user, ConsoleRoles.Admin);
            }

            if (!created.Succeeded)
            {
                throw new UserAdministrationException("The administrator was not created: " + string.Join(" ", created.Errors.Select(e => e.Description)));
            }

            await tx.CommitAsync(ct);
            await audit.RecordAsync(performedBy ?? actor with { UserId = user.Id, Roles = [ConsoleRoles.Admin] },
                AuditActions.SetupAdminCreated, email, AuditOutcome.Succeeded, how, CancellationToken.None);
            return user.Id;
        }
        catch (SetupClosedException)
        {
            await audit.RecordAsync(actor, AuditActions.SetupAdminCreated, email, AuditOutcome.Denied, $"{how}; setup is closed, an administrator exists", CancellationToken.None);
            throw;
        }
        catch (UserAdministrationException e)
        {
            await audit.RecordAsync(actor, AuditActions.SetupAdminCreated, email, AuditOutcome.Failed, $"{how}; {e.Message}", CancellationToken.None);
            throw;
        }
    }

    private static Task<bool> AnyAdminAsync(ConsoleDbContext db, CancellationToken ct) =>
        (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where r.Name == ConsoleRoles.Admin select ur.UserId).AnyAsync(ct);
}
