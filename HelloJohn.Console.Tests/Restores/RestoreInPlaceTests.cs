using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Restores;

/// <summary>Restores over a live database, each test on a HelloJohn database of its own.</summary>
[Trait("Capability", "Restore")]
[Collection(PostgresCollection.Name)]
public sealed class RestoreInPlaceTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private const string InsertMarker = "INSERT INTO hj_signing_key (kid, algorithm, public_key_x, active, created_at) VALUES ('marker-after-backup', 'EdDSA', 'x', false, now())";
    private readonly ConsoleAppFactory _app = new(postgres);
    private NpgsqlConnectionStringBuilder _live = default!;
    private Guid _targetId;

    public async Task InitializeAsync()
    {
        await _app.InitializeAsync();
        _live = await postgres.CreateDemoDatabaseAsync(users: 300);
        _targetId = await _app.Service<TargetService>().AddStoredAsync("live", _live.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
    }

    public Task DisposeAsync() => _app.DisposeAsync();

    private RestoreService Restores => _app.Service<RestoreService>();

    private string LiveName => _live.Database!;

    private Task<long> MarkersAsync() => ScalarAsync<long>(_live, "SELECT count(*) FROM hj_signing_key WHERE kid = 'marker-after-backup'");

    private async Task<int> BackupCountAsync()
    {
        await using var db = await _app.DbAsync();
        return await db.Backups.CountAsync();
    }

    [Fact]
    public async Task InPlace_AsAdminWithConfirmation_TakesSafetyBackupBeforeTouchingTheLiveDatabase()
    {
        var (backupId, _) = await _app.BackUpAsync(_targetId);
        var keysAtBackup = await postgres.CountAsync(_live, "hj_signing_key");
        await ExecuteAsync(_live, InsertMarker);

        var result = await Restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.InPlace, LiveName, Confirmation: LiveName), CancellationToken.None);

        Assert.Equal(RestoreStatus.Succeeded, result.Run.Status);
        Assert.True(result.Run.CountsMatch);
        Assert.Equal(0L, await MarkersAsync());
        Assert.Equal(keysAtBackup, await postgres.CountAsync(_live, "hj_signing_key"));

        // The safety backup finished before pg_restore first wrote, and it holds the state the restore replaced.
        var safety = (await _app.Service<BackupService>().GetAsync(result.Run.SafetyBackupId!.Value, CancellationToken.None))!;
        Assert.Equal(BackupTrigger.SafetyBeforeRestore, safety.Backup.Trigger);
        Assert.Equal(BackupStatus.Succeeded, safety.Backup.Status);
        Assert.Equal(Admin.Name, safety.Backup.RequestedBy);
        Assert.True(safety.Backup.FinishedAt <= result.Run.RestoreStartedAt);
        Assert.Equal(keysAtBackup + 1, safety.Tables.Single(t => t.Table == "hj_signing_key").Rows);
        Assert.True(File.Exists(Path.Combine(_app.BackupDirectory, safety.Backup.FileName)));
        Assert.Equal(safety.Backup.FileName, result.SafetyBackupFileName);
        Assert.NotNull(result.Run.SafetyBackupDuration);

        // And it brings that state back.
        var back = await Restores.RestoreAsync(Admin, new RestoreRequest(safety.Backup.Id, RestoreMode.InPlace, LiveName, Confirmation: LiveName), CancellationToken.None);
        Assert.Equal(RestoreStatus.Succeeded, back.Run.Status);
        Assert.Equal(1L, await MarkersAsync());
    }

    [Theory]
    [InlineData(ConsoleRoles.Operator)]
    [InlineData(ConsoleRoles.Viewer)]
    public async Task InPlace_AsNonAdmin_IsDeniedAuditedAndNothingRuns(string role)
    {
        var (backupId, _) = await _app.BackUpAsync(_targetId);
        await ExecuteAsync(_live, InsertMarker);
        var backupsBefore = await BackupCountAsync();
        var actor = new Actor(TestAccounts.IdFor(role), $"{role.ToLowerInvariant()}@example.test", [role]);

        var e = await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            Restores.RestoreAsync(actor, new RestoreRequest(backupId, RestoreMode.InPlace, LiveName, Confirmation: LiveName), CancellationToken.None));

        Assert.Equal(ConsolePermission.RestoreInPlace, e.Permission);
        Assert.Equal(1L, await MarkersAsync());
        Assert.Equal(backupsBefore, await BackupCountAsync());
        await using var db = await _app.DbAsync();
        Assert.Empty(await db.Set<RestoreRun>().ToListAsync());
        var denied = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.RestoreRequested);
        Assert.Equal(AuditOutcome.Denied, denied.Outcome);
        Assert.Equal(actor.Name, denied.Actor);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yes")]
    [InlineData("UPPER")]
    [InlineData("trailing ")]
    public async Task InPlace_ConfirmationNotTheDatabaseName_IsRefused(string? confirmation)
    {
        var (backupId, _) = await _app.BackUpAsync(_targetId);
        await ExecuteAsync(_live, InsertMarker);
        var typed = confirmation switch
        {
            "UPPER" => LiveName.ToUpperInvariant(),
            "trailing " => LiveName + " ",
            _ => confirmation,
        };

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.InPlace, LiveName, Confirmation: typed), CancellationToken.None));

        Assert.Contains($"type its name exactly: {LiveName}", e.Message);
        Assert.Equal(1L, await MarkersAsync());
    }

    [Fact]
    public async Task InPlace_DatabaseOtherThanTheLiveOne_IsRefused()
    {
        var (backupId, _) = await _app.BackUpAsync(_targetId);

        var e = await Assert.ThrowsAsync<RestoreRefusedException>(() =>
            Restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.InPlace, "elsewhere", Confirmation: "elsewhere"), CancellationToken.None));

        Assert.Contains($"live database {LiveName}", e.Message);
    }

    [Fact]
    public async Task InPlace_CorruptedBackup_FailsBeforeTheSafetyBackupAndLeavesTheLiveDatabase()
    {
        var (backupId, file) = await _app.BackUpAsync(_targetId);
        await ExecuteAsync(_live, InsertMarker);
        await FlipMiddleByteAsync(file);
        var backupsBefore = await BackupCountAsync();

        var e = await Assert.ThrowsAsync<RestoreFailedException>(() =>
            Restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.InPlace, LiveName, Confirmation: LiveName), CancellationToken.None));

        Assert.Contains("SHA-256", e.Message);
        Assert.Contains($"The live database {LiveName} was not touched", e.Message);
        Assert.Equal(1L, await MarkersAsync());
        Assert.Equal(backupsBefore, await BackupCountAsync());
    }

    [Fact]
    public async Task InPlace_SafetyBackupFails_RefusesToContinueAndLeavesTheLiveDatabase()
    {
        // The target connects as a role that may read the tables (so the first backup works) and then loses that right.
        var role = $"reader_{Guid.NewGuid():N}"[..20];
        const string password = "Reader-Pa55word";
        var superuser = postgres.Cluster.ConnectionFor(LiveName);
        await ExecuteAsync(superuser, $"CREATE ROLE {role} LOGIN PASSWORD '{password}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}");
        var asReader = new NpgsqlConnectionStringBuilder(_live.ConnectionString) { Username = role, Password = password };
        var readerTarget = await _app.Service<TargetService>().AddStoredAsync("reader", asReader.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        var (backupId, _) = await _app.BackUpAsync(readerTarget);
        await ExecuteAsync(_live, InsertMarker);
        await ExecuteAsync(superuser, $"REVOKE SELECT ON hj_user FROM {role}");

        var e = await Assert.ThrowsAsync<RestoreFailedException>(() =>
            Restores.RestoreAsync(Admin, new RestoreRequest(backupId, RestoreMode.InPlace, LiveName, Confirmation: LiveName), CancellationToken.None));

        Assert.Contains("the safety backup", e.Message);
        Assert.Contains("The live database was not touched", e.Message);
        Assert.Equal(1L, await MarkersAsync());
        var run = (await Restores.GetAsync(e.RunId!.Value, CancellationToken.None))!.Run;
        Assert.Equal(RestoreStatus.Failed, run.Status);
        Assert.Null(run.RestoreStartedAt);
        Assert.Null(run.SafetyBackupId);
        await using var db = await _app.DbAsync();
        var safety = await db.Backups.SingleAsync(b => b.Trigger == BackupTrigger.SafetyBeforeRestore);
        Assert.Equal(BackupStatus.Failed, safety.Status);
    }
}
