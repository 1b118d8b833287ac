using System.Security.Cryptography;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace HelloJohn.Console.Tests.Secrets.Fixtures;

/// <summary>A private PostgreSQL cluster with a console database created from the current model, shared by the
/// Secrets tests. Tests stay apart by creating their own targets.</summary>
public sealed class SecretsDatabaseFixture : IAsyncLifetime
{
    private LocalPostgresCluster? _cluster;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var runner = new PgToolRunner(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);
        _cluster = await LocalPostgresCluster.StartAsync(Path.Combine(Path.GetTempPath(), "hjc-" + Guid.NewGuid().ToString("N")), runner, deleteOnDispose: true);
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await _cluster.EnsureDatabaseAsync("hjc_secrets_tests", "hjc_secrets", password, canCreateDatabases: false);
        ConnectionString = _cluster.ConnectionFor("hjc_secrets_tests", "hjc_secrets", password).ConnectionString;
        await using var db = CreateContext();
        await db.Database.EnsureCreatedAsync();
        await TestAccounts.EnsureAsync(db);
    }

    public ConsoleDbContext CreateContext() =>
        new(new DbContextOptionsBuilder<ConsoleDbContext>().UseNpgsql(ConnectionString).Options);

    public async Task<BackupTarget> CreateTargetAsync(string? baseUrl = null, string? name = null)
    {
        var target = new BackupTarget
        {
            Id = Guid.NewGuid(),
            Name = name ?? "target-" + Guid.NewGuid().ToString("N")[..12],
            ConnectionSource = TargetConnectionSource.Environment,
            BaseUrl = baseUrl,
            Provider = TargetProvider.SelfManaged,
            CreatedAt = TimeProvider.System.GetUtcNow(),
        };
        await using var db = CreateContext();
        db.Targets.Add(target);
        await db.SaveChangesAsync();
        return target;
    }

    public async Task SetBaseUrlAsync(Guid targetId, string? baseUrl)
    {
        await using var db = CreateContext();
        var target = await db.Targets.SingleAsync(t => t.Id == targetId);
        target.BaseUrl = baseUrl;
        await db.SaveChangesAsync();
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
public sealed class SecretsDatabaseCollection : ICollectionFixture<SecretsDatabaseFixture>
{
    public const string Name = "Secrets database";
}
