using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>One account per role, present in every test console database, so actors that tests make up (by these
/// ids) pass Core's check of the caller's current account. Their emails are their own: an actor's name is what its
/// sign-in says, and the tests name theirs as they like.</summary>
public static class TestAccounts
{
    public const string AdminId = "admin-1";
    public const string OperatorId = "op-1";
    public const string ViewerId = "viewer-1";

    private static readonly (string Id, string Role)[] Seeded = [(AdminId, ConsoleRoles.Admin), (OperatorId, ConsoleRoles.Operator), (ViewerId, ConsoleRoles.Viewer)];

    /// <summary>The seeded account id holding <paramref name="role"/>.</summary>
    public static string IdFor(string role) => Seeded.Single(s => s.Role == role).Id;

    public static async Task EnsureAsync(IDbContextFactory<ConsoleDbContext> dbFactory)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await EnsureAsync(db);
    }

    public static async Task EnsureAsync(ConsoleDbContext db)
    {
        foreach (var (id, role) in Seeded)
        {
            if (await db.Users.AnyAsync(u => u.Id == id))
            {
                continue;
            }

            var roleId = await db.Roles.Where(r => r.Name == role).Select(r => r.Id).FirstOrDefaultAsync();
            if (roleId is null)
            {
                roleId = Guid.NewGuid().ToString();
                db.Roles.Add(new IdentityRole(role) { Id = roleId, NormalizedName = role.ToUpperInvariant() });
            }

            var userName = $"{id}@accounts.test";
            db.Users.Add(new ConsoleUser
            {
                Id = id,
                UserName = userName,
                NormalizedUserName = userName.ToUpperInvariant(),
                Email = userName,
                NormalizedEmail = userName.ToUpperInvariant(),
                SecurityStamp = Guid.NewGuid().ToString("N"),
                CreatedAt = DateTimeOffset.UnixEpoch,
            });
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = id, RoleId = roleId });
            await db.SaveChangesAsync();
        }
    }
}
