using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Tests.Infrastructure;
using Npgsql;

namespace HelloJohn.Console.Tests.Restores;

/// <summary>HelloJohn's role usually lacks CREATEDB: restores into a new database and verifications on its server then
/// say what to do instead of "permission denied to create database (42501)".</summary>
[Trait("Capability", "Restore")]
[Collection(PostgresCollection.Name)]
public sealed class CreateDatabaseDeniedTests(PostgresClusterFixture postgres)
{
    [Fact]
    public async Task Create_RoleWithoutCreateDb_SaysHowToGrantItOrWhichSettingToUse()
    {
        var limited = await postgres.CreateDatabaseAsync("nocreate", canCreateDatabases: false);
        await using var conn = new NpgsqlConnection(limited.Unpooled().ConnectionString);
        await conn.OpenAsync();

        var e = await Assert.ThrowsAsync<CreateDatabaseDeniedException>(() => ServerDatabases.CreateAsync(conn, "hellojohn_verify_1", CancellationToken.None));

        Assert.Contains($"the role {limited.Username} may not create databases (permission denied to create database, 42501)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"ALTER ROLE \"{limited.Username}\" CREATEDB;", e.Message, StringComparison.Ordinal);
        Assert.Contains("set Verification__ScratchServer", e.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was restored", e.Message, StringComparison.Ordinal);
        Assert.False(await ServerDatabases.ExistsAsync(conn, "hellojohn_verify_1", CancellationToken.None));
    }
}
