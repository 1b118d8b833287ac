using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Restores;

/// <summary>After Rebuild catalog from storage the re-created target has no connection: its backups are still offered,
/// a restore needs a server the person names (tried, kept encrypted only while the run lasts, audited by address, its
/// password never shown or logged), and requests that would need the target's own server say so plainly.</summary>
[Trait("Capability", "Restore")]
[Collection(PostgresCollection.Name)]
public sealed class RestoreIntoNamedServerTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    // Verifications where the console puts them by default: its own scratch cluster, which needs no target connection.
    private readonly ConsoleAppFactory _app = new(postgres) { Settings = { ["Runs:SweepInterval"] = "00:10:00", ["Verification:RestoreInto"] = "PrivateCluster" } };

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    private RestoreService Restores => _app.Service<RestoreService>();

    /// <summary>The test cluster's server as a person would type it, password included.</summary>
    private string TypedServer => new NpgsqlConnectionStringBuilder(postgres.Demo.ConnectionString) { Database = "postgres" }.ConnectionString;

    [Fact]
    public async Task ListRestorable_WithARebuiltTarget_OffersItsBackupSayingTheTargetHasNoConnection()
    {
        var (id, fileName, targetName) = await _app.RebuiltTargetBackupAsync();
        var (other, _) = await _app.BackUpAsync();

        var listed = await Restores.ListRestorableAsync(100, CancellationToken.None);

        var rebuilt = Assert.Single(listed, b => b.Id == id);
        Assert.Equal((fileName, targetName, false), (rebuilt.FileName, rebuilt.TargetName, rebuilt.TargetHasConnection));
        Assert.True(Assert.Single(listed, b => b.Id == other).TargetHasConnection);
    }

    [Fact]
    public async Task Request_ForARebuiltTargetWithoutAServer_IsRefusedSayingWhatToDoAndStartsNothing()
    {
        var (id, _, targetName) = await _app.RebuiltTargetBackupAsync();

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() => Restores.RequestAsync(Operator, new RestoreRequest(id, RestoreMode.NewDatabase, "restore_nowhere"), CancellationToken.None));

        Assert.Contains($"The target '{targetName}' has no connection", e.Message);
        Assert.Contains("on a server you name", e.Message);
        Assert.Contains("Settings → Targets", e.Message);
        Assert.Equal(0, (await Restores.QueryAsync(0, 10, CancellationToken.None)).TotalCount);
        var check = await Restores.CheckDatabaseNameAsync(id, "restore_nowhere", CancellationToken.None);
        Assert.Contains("has no connection", check.Problem);
        await using var db = await _app.DbAsync();
        Assert.True(await db.AuditEvents.AnyAsync(a => a.Action == AuditActions.RestoreRequested && a.Outcome == AuditOutcome.Failed));
    }

    [Fact]
    public async Task Restore_OfARebuiltTargetsBackupIntoANamedServer_RestoresThereAuditsTheAddressAndForgetsTheConnection()
    {
        var (id, fileName, _) = await _app.RebuiltTargetBackupAsync();
        var name = "named_" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Assert.Equal(new DatabaseNameCheck(null, false), await Restores.CheckDatabaseNameAsync(id, name, TypedServer, CancellationToken.None));

            var done = await Restores.RestoreAsync(Operator, new RestoreRequest(id, RestoreMode.NewDatabase, name) { ServerConnectionString = TypedServer }, CancellationToken.None);

            Assert.Equal((RestoreStatus.Succeeded, true), (done.Run.Status, done.Run.CountsMatch));
            Assert.True(done.Run.RowsRestored > 0);
            Assert.Contains(name, await postgres.DatabasesAsync(name));
            Assert.Equal($"{postgres.Demo.Host}:{postgres.Demo.Port}", done.Run.Server);
            var password = postgres.Demo.Password!;
            await using var db = await _app.DbAsync();
            Assert.Null((await db.Set<RestoreRun>().SingleAsync(r => r.Id == done.Run.Id)).ProtectedServerConnection);
            var audit = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.RestoreRequested && a.Outcome == AuditOutcome.Succeeded);
            Assert.Contains($"from {fileName} on {postgres.Demo.Username}@{postgres.Demo.Host}:{postgres.Demo.Port}/postgres, a server named in the request", audit.Detail);
            Assert.DoesNotContain(password, audit.Detail);
            Assert.DoesNotContain(password, _app.Logs.AllText);
            Assert.DoesNotContain(password, new RestoreRequest(id, RestoreMode.NewDatabase, name) { ServerConnectionString = TypedServer }.ToString());
        }
        finally
        {
            await postgres.DropDatabaseAsync(name);
        }
    }

    public static TheoryData<string, string> BadServers => new()
    {
        { "this is not a connection string", "neither a postgres:// URL" },
        { "postgres://someone:Not-Th3-Password@127.0.0.1:1/postgres", "could not reach" },
    };

    [Theory]
    [MemberData(nameof(BadServers))]
    public async Task Request_IntoABadOrUnreachableServer_IsRefusedWithoutThePasswordAndStartsNothing(string typed, string expected)
    {
        var (id, _, _) = await _app.RebuiltTargetBackupAsync();

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RequestAsync(Operator, new RestoreRequest(id, RestoreMode.NewDatabase, "restore_bad") { ServerConnectionString = typed }, CancellationToken.None));

        Assert.Contains(expected, e.Message);
        Assert.Contains("Nothing was restored", e.Message);
        Assert.DoesNotContain("Not-Th3-Password", e.Message);
        Assert.DoesNotContain("Not-Th3-Password", _app.Logs.AllText);
        Assert.Equal(0, (await Restores.QueryAsync(0, 10, CancellationToken.None)).TotalCount);
    }

    [Fact]
    public async Task Request_InPlaceWithANamedServer_IsRefused()
    {
        var (id, _) = await _app.BackUpAsync();

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RequestAsync(Admin, new RestoreRequest(id, RestoreMode.InPlace, postgres.Demo.Database!, Confirmation: postgres.Demo.Database) { ServerConnectionString = TypedServer }, CancellationToken.None));

        Assert.Contains("a server you name is for a restore into a new database", e.Message);
        Assert.Equal(0, (await Restores.QueryAsync(0, 10, CancellationToken.None)).TotalCount);
    }

    [Fact]
    public async Task Verify_ARebuiltTargetsBackup_PassesOnTheScratchCluster()
    {
        var (id, _, _) = await _app.RebuiltTargetBackupAsync();

        var run = await _app.Service<VerificationService>().VerifyAsync(Operator, id, CancellationToken.None);

        Assert.True(run.Run.Status == VerificationStatus.Passed, run.Run.Error);
    }
}

/// <summary>With verifications set to restore on the target's own server, a rebuilt target's backup is refused plainly.</summary>
[Trait("Capability", "Verification")]
[Collection(PostgresCollection.Name)]
public sealed class VerifyRebuiltTargetOnItsServerTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres) { Settings = { ["Verification:RestoreInto"] = "TargetServer" } };

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Request_OnTheTargetsServer_IsRefusedSayingTheTargetNeedsAConnectionAndIsAudited()
    {
        var (id, fileName, targetName) = await _app.RebuiltTargetBackupAsync();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _app.Service<VerificationService>().RequestAsync(Operator, id, VerificationTrigger.Manual, CancellationToken.None));

        Assert.Contains($"The target '{targetName}' has no connection", e.Message);
        Assert.Contains("Settings → Targets", e.Message);
        Assert.Contains("Nothing was started", e.Message);
        await using var db = await _app.DbAsync();
        var audit = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.VerificationRequested);
        Assert.Equal((AuditOutcome.Failed, fileName), (audit.Outcome, audit.Target));
        Assert.Equal(0, await db.Set<VerificationRun>().CountAsync());
    }
}
