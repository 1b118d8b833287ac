using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
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

/// <summary>Deployments and sets on a running console, as the Settings page and the Backups page drive them.</summary>
internal static class SetAppSupport
{
    public static async Task<Guid> AddDeploymentAsync(this ConsoleAppFactory app, string name, string? databases, string? patterns)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Core.Deployments.DeploymentService>()
            .AddAsync(Restores.RestoreTestSupport.Admin, new Core.Deployments.DeploymentDraft(name, app.Postgres.ServerUrl(), databases, patterns, null, Core.Targets.TargetProvider.SelfManaged), CancellationToken.None);
    }

    /// <summary>Takes a set of <paramref name="targetId"/> and waits (a hang guard, not a timing) until it has ended.</summary>
    public static async Task<Core.Sets.BackupSetDetails> BackUpSetAsync(this ConsoleAppFactory app, Guid targetId)
    {
        var id = await app.Service<Core.Sets.SetService>().RequestAsync(Restores.RestoreTestSupport.Operator, targetId, Core.Backups.BackupTrigger.Manual, CancellationToken.None);
        return await app.WaitForSetAsync(id);
    }

    public static async Task<Core.Sets.BackupSetDetails> WaitForSetAsync(this ConsoleAppFactory app, Guid setId)
    {
        var sets = app.Service<Core.Sets.SetService>();
        var guard = DateTimeOffset.UtcNow.AddMinutes(4);
        while (true)
        {
            var details = (await sets.GetAsync(setId, CancellationToken.None))!;
            if (!details.Set.IsActive)
            {
                return details;
            }

            Assert.True(DateTimeOffset.UtcNow < guard, $"Set {details.Set.Name} did not end: {details.Set.Status}, {details.Set.Phase}");
            await Task.Delay(200);
        }
    }
}
