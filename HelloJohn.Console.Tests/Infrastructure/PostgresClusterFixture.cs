using HelloJohn.Console.Core.Demo;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>One private PostgreSQL cluster for the test run (the same helper the embedded default uses), on a free
/// loopback port, with a demo HelloJohn database. Removed when the run ends.</summary>
public sealed class PostgresClusterFixture : IAsyncLifetime
{
    public const string DemoDatabase = "hellojohn";
    public const string DemoRole = "hellojohn";
    public const string DemoPassword = "demo-Pa55:word@/with?odd&chars";
    public const int DemoUsers = 2000;

    private LocalPostgresCluster? _cluster;

    public LocalPostgresCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");
    public PgToolRunner Runner { get; } = new(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);

    /// <summary>The demo HelloJohn database, as its owner (who may create databases, as verification needs).</summary>
    public NpgsqlConnectionStringBuilder Demo => Cluster.ConnectionFor(DemoDatabase, DemoRole, DemoPassword);

    public async Task InitializeAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), $"hjc-test-pg-{Guid.NewGuid():N}"[..24]);
        _cluster = await LocalPostgresCluster.StartAsync(root, Runner, deleteOnDispose: true);
        await _cluster.EnsureDatabaseAsync(DemoDatabase, DemoRole, DemoPassword, canCreateDatabases: true);
        await DemoHelloJohnDatabase.EnsureAsync(Demo, DemoUsers);
    }

    /// <summary>A new, empty database owned by a role of its own (a console database for one test class).</summary>
    public async Task<NpgsqlConnectionStringBuilder> CreateDatabaseAsync(string prefix, bool canCreateDatabases = false)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
        var password = Guid.NewGuid().ToString("N") + "Aa1!";
        await Cluster.EnsureDatabaseAsync(name, name, password, canCreateDatabases);
        return Cluster.ConnectionFor(name, name, password);
    }

    /// <summary>A fresh HelloJohn database with demo data, for tests that change it.</summary>
    public async Task<NpgsqlConnectionStringBuilder> CreateDemoDatabaseAsync(int users = 500)
    {
        var db = await CreateDatabaseAsync("hj", canCreateDatabases: true);
        await DemoHelloJohnDatabase.EnsureAsync(db, users);
        return db;
    }

    public async Task<long> CountAsync(NpgsqlConnectionStringBuilder db, string table)
    {
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {LocalPostgresCluster.QuoteIdent(table)}", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres";
}
