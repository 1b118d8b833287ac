using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>A target re-created by a catalog rebuild gets its connection back from an administrator: tried first,
/// stored encrypted, audited by address only; bad input changes nothing and never echoes the password.</summary>
[Trait("Capability", "Storage")]
[Collection(PostgresCollection.Name)]
public sealed class TargetConnectionTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres);

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    private TargetService Targets => _app.Service<TargetService>();

    /// <summary>A target as a catalog rebuild leaves it: known by name, no connection.</summary>
    private async Task<Guid> RebuiltTargetAsync()
    {
        await using var db = await _app.DbAsync();
        var target = new BackupTarget { Id = Guid.NewGuid(), Name = "rebuilt-" + Guid.NewGuid().ToString("N")[..6], ConnectionSource = TargetConnectionSource.Unset, CreatedAt = DateTimeOffset.UtcNow };
        db.Targets.Add(target);
        await db.SaveChangesAsync();
        return target.Id;
    }

    [Fact]
    public async Task SetConnection_OnARebuiltTarget_TriesItStoresItEncryptedAndItIsUsable()
    {
        var targetId = await RebuiltTargetAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Targets.GetConnectionAsync(targetId, CancellationToken.None));

        var saved = await Targets.SetConnectionAsync(Admin, targetId, postgres.Demo.ConnectionString, CancellationToken.None);

        Assert.Equal(TargetConnectionSource.Stored, saved.Source);
        Assert.Contains(postgres.Demo.Database!, saved.DisplayAddress);
        var connection = await Targets.GetConnectionAsync(targetId, CancellationToken.None);
        await using (var conn = new NpgsqlConnection(connection.ConnectionString))
        {
            await conn.OpenAsync();
            Assert.Equal(postgres.Demo.Database, conn.Database);
        }

        var password = postgres.Demo.Password!;
        await using var db = await _app.DbAsync();
        Assert.DoesNotContain(password, (await db.Targets.SingleAsync(t => t.Id == targetId)).ProtectedConnectionString);
        var audit = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.TargetConnectionSet);
        Assert.Equal((Admin.Name, AuditOutcome.Succeeded), (audit.Actor, audit.Outcome));
        Assert.DoesNotContain(password, audit.Detail);
        Assert.DoesNotContain(password, _app.Logs.AllText);
    }

    public static TheoryData<string, string> BadConnections => new()
    {
        { "", "empty" },
        { "this is not a connection string", "neither a postgres:// URL" },
        { "postgres://someone:Not-Th3-Password@127.0.0.1:1/hellojohn", "could not reach" },
    };

    [Theory]
    [MemberData(nameof(BadConnections))]
    public async Task SetConnection_BadOrUnreachable_SaysWhyChangesNothingAndNeverEchoesThePassword(string input, string expected)
    {
        var targetId = await RebuiltTargetAsync();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Targets.SetConnectionAsync(Admin, targetId, input, CancellationToken.None));

        Assert.Contains(expected, e.Message);
        Assert.Contains("Nothing was changed", e.Message);
        Assert.DoesNotContain("Not-Th3-Password", e.Message);
        Assert.Equal(TargetConnectionSource.Unset, (await Targets.GetAsync(targetId, CancellationToken.None)).Source);
    }

    [Fact]
    public async Task SetConnection_WrongPassword_ShowsPostgreSqlsAnswerWithoutThePassword()
    {
        var targetId = await RebuiltTargetAsync();
        var wrong = new NpgsqlConnectionStringBuilder(postgres.Demo.ConnectionString) { Password = "Wrong-Pa55word-Here" };

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Targets.SetConnectionAsync(Admin, targetId, wrong.ConnectionString, CancellationToken.None));

        Assert.Contains("PostgreSQL said", e.Message);
        Assert.DoesNotContain("Wrong-Pa55word-Here", e.Message);
        Assert.Equal(TargetConnectionSource.Unset, (await Targets.GetAsync(targetId, CancellationToken.None)).Source);
    }

    [Fact]
    public async Task SetConnection_OnTheEnvironmentTarget_IsRefusedNamingTheVariable()
    {
        var target = (await Targets.GetDefaultAsync(CancellationToken.None))!;
        Assert.Equal(TargetConnectionSource.Environment, target.Source);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Targets.SetConnectionAsync(Admin, target.Id, postgres.Demo.ConnectionString, CancellationToken.None));

        Assert.Contains("HELLOJOHN_DATABASE_URL", e.Message);
        Assert.Equal(TargetConnectionSource.Environment, (await Targets.GetAsync(target.Id, CancellationToken.None)).Source);
    }
}
