using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Tests.Infrastructure;
using Npgsql;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>Tenant databases on the test cluster, each test with names of its own (the cluster is shared).</summary>
internal static class SetTestSupport
{
    /// <summary>A prefix no other test uses: tenant names are <c>{prefix}_tenant_{name}</c>.</summary>
    public static string NewPrefix() => "d" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Creates (or fills) a tenant database in HelloJohn's current layout, owned by the demo role.</summary>
    public static async Task<NpgsqlConnectionStringBuilder> CreateTenantAsync(this PostgresClusterFixture postgres, string name, int users)
    {
        await postgres.Cluster.EnsureDatabaseAsync(name, PostgresClusterFixture.DemoRole, PostgresClusterFixture.DemoPassword, canCreateDatabases: true);
        var connection = postgres.Demo.WithDatabase(name);
        await DemoTenantDatabase.EnsureAsync(connection, name, users);
        return connection;
    }

    public static async Task DropDatabaseAsync(this PostgresClusterFixture postgres, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(postgres.Cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync();
        await ServerDatabases.DropAsync(conn, name, force: true, CancellationToken.None);
    }

    /// <summary>The demo role's connection to the server through <c>postgres</c>, as an administrator would paste it.</summary>
    public static string ServerUrl(this PostgresClusterFixture postgres, string host = "127.0.0.1") =>
        $"postgres://{Uri.EscapeDataString(PostgresClusterFixture.DemoRole)}:{Uri.EscapeDataString(PostgresClusterFixture.DemoPassword)}@{host}:{postgres.Cluster.Port}/postgres";
}
