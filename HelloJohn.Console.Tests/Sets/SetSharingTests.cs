using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>Two console instances on one console database share one set's members: each dumps one database at a time
/// (Sets__Parallelism=1), and while the first instance's dump is held up the other takes the next database.</summary>
[Trait("Capability", "Sets")]
[Collection(PostgresCollection.Name)]
public sealed class SetSharingTests(PostgresClusterFixture postgres)
{
    [Fact]
    public async Task TwoInstances_OneSet_EachDumpsMembers()
    {
        var certificate = Path.Combine(Path.GetTempPath(), $"hjc-keyring-{Guid.NewGuid():N}.pem");
        using (KeyRingProtector.LoadOrCreate(certificate, createIfMissing: true))
        {
        }

        await using var first = new ConsoleAppFactory(postgres);
        await first.InitializeAsync();
        first.Settings["Sets:Parallelism"] = "1";
        first.Settings[KeyRingProtector.SettingName] = certificate;
        await using var second = new ConsoleAppFactory(postgres);
        await second.InitializeAsync();
        second.Settings["Sets:Parallelism"] = "1";
        second.Settings[KeyRingProtector.SettingName] = certificate;
        second.Settings["ConnectionStrings:Console"] = first.ConsoleDatabase.ConnectionString;
        second.Settings["Storage:Local:Directory"] = first.BackupDirectory;

        var prefix = SetTestSupport.NewPrefix();
        var tenants = new List<NpgsqlConnectionStringBuilder>();
        foreach (var name in new[] { "a", "b", "c" })
        {
            tenants.Add(await postgres.CreateTenantAsync($"{prefix}_tenant_{name}", 30));
        }

        var targetId = await first.AddDeploymentAsync(prefix, null, $"{prefix}_tenant_*");
        _ = second.Services; // started: its workers poll the same queue

        // Every tenant's app_user is held: a member's dump waits on it, keeping its instance's only worker busy.
        var holds = new List<(NpgsqlConnection Conn, NpgsqlTransaction Tx)>();
        foreach (var tenant in tenants)
        {
            var conn = new NpgsqlConnection(tenant.ConnectionString);
            await conn.OpenAsync();
            var tx = await conn.BeginTransactionAsync();
            await using (var cmd = new NpgsqlCommand("LOCK TABLE app_user IN ACCESS EXCLUSIVE MODE", conn, tx))
            {
                await cmd.ExecuteNonQueryAsync();
            }

            holds.Add((conn, tx));
        }

        var setId = await first.Service<SetService>().RequestAsync(Operator, targetId, Core.Backups.BackupTrigger.Manual, CancellationToken.None);
        var owners = await WaitForTwoOwnersAsync(first, setId);
        foreach (var (conn, tx) in holds)
        {
            await tx.RollbackAsync();
            await conn.DisposeAsync();
        }

        var set = await first.WaitForSetAsync(setId);
        Assert.Equal(BackupSetStatus.Succeeded, set.Set.Status);
        Assert.Equal(2, owners.Count);
        await using var db = await first.DbAsync();
        var memberIds = set.Members.Select(m => m.BackupId).ToList();
        var ranOn = await db.Set<RunRecord>().Where(r => memberIds.Contains(r.Id)).Select(r => r.OwnerInstanceId).Distinct().CountAsync();
        Assert.Equal(2, ranOn);
        File.Delete(certificate);
    }

    /// <summary>Waits (a hang guard, not a timing) until members of the set run on two distinct instances at once.</summary>
    private static async Task<HashSet<Guid>> WaitForTwoOwnersAsync(ConsoleAppFactory app, Guid setId)
    {
        var guard = DateTimeOffset.UtcNow.AddMinutes(3);
        while (true)
        {
            await using var db = await app.DbAsync();
            var owners = await (
                from b in db.Backups
                where b.SetId == setId
                join r in db.Set<RunRecord>() on b.Id equals r.Id
                where r.Status == RunStatus.Running && r.OwnerInstanceId != null
                select r.OwnerInstanceId!.Value).Distinct().ToListAsync();
            if (owners.Count >= 2)
            {
                return [.. owners];
            }

            Assert.True(DateTimeOffset.UtcNow < guard, "The members never ran on two instances at once.");
            await Task.Delay(200);
        }
    }
}
