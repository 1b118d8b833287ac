using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Security;

/// <summary>Serialises changes to accounts and roles across every console instance sharing the database, so two
/// administrators demoting each other at once cannot both pass the "another active admin remains" check, and two
/// browsers on /setup cannot both create a first admin.</summary>
internal static class AccountChangeLock
{
    // An arbitrary constant; only this code takes this advisory lock.
    private const long Key = 0x484A_4353_4543_5531;

    /// <summary>Takes the lock for the rest of the current transaction of <paramref name="db"/>.</summary>
    public static async Task AcquireAsync(ConsoleDbContext db, CancellationToken ct) =>
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({Key})", ct);
}
