using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>A catalog whose base backups and point-in-time restores kept their own status upgrades in place: every one
/// is still there, with its run; what was queued can be cancelled; what the old console left running is ended by the
/// sweep with the reason.</summary>
[Trait("Capability", "Pitr")]
[Collection(PostgresCollection.Name)]
public sealed class PitrCatalogUpgradeTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    /// <summary>The last migration before base backups and point-in-time restores became runs.</summary>
    private const string PreviousSchema = "20261129150016_RestoreIntoNamedServer";

    private static readonly Actor Admin = new("admin-1", "admin@example.test", [ConsoleRoles.Admin]);
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 2, 0, 0, TimeSpan.Zero);

    private readonly ConsoleAppFactory _app = new(postgres) { Settings = { ["Runs:SweepInterval"] = "00:10:00" } };
    private readonly Guid _target = Guid.NewGuid();
    private readonly Guid _stored = Guid.NewGuid(), _expired = Guid.NewGuid(), _copying = Guid.NewGuid(), _waiting = Guid.NewGuid();
    private readonly Guid _restored = Guid.NewGuid(), _refused = Guid.NewGuid(), _replaying = Guid.NewGuid();

    public async Task InitializeAsync()
    {
        await _app.InitializeAsync();
        await PreviousCatalog.WriteAsync(_app, PreviousSchema, PreviousCatalogSql());
    }

    public Task DisposeAsync() => _app.DisposeAsync();

    private string PreviousCatalogSql() => $"""
        INSERT INTO targets ("Id", "Name", "ConnectionSource", "Provider", "DisplayAddress", "CreatedAt")
        VALUES ('{_target}', 'legacy', 'Environment', 'SelfManaged', 'hellojohn@db:5432/hellojohn', '{T0:O}');

        INSERT INTO pitr_base_backups ("Id", "TargetId", "Status", "Reason", "StartedAt", "FinishedAt", "Timeline", "StartLsn", "EndLsn", "ConsistentAt",
                                       "SizeBytes", "KeyPrefix", "Stores", "Files", "Verification", "Error")
        VALUES
          ('{_stored}', '{_target}', 'Succeeded', 'requested by ops@example.test', '{T0:O}', '{T0.AddMinutes(1):O}', 1, '0/2000028', '0/2000100', '{T0.AddMinutes(1):O}',
           4096, 'pitr/{_target:N}/base/{_stored:N}/', 'local', 'base.tar.zst {new string('a', 64)} 4000', 'backup successfully verified', NULL),
          ('{_expired}', '{_target}', 'Expired', 'scheduled', '{T0.AddDays(-9):O}', '{T0.AddDays(-9):O}', 1, '0/1000028', '0/1000100', '{T0.AddDays(-9):O}',
           4096, 'pitr/{_target:N}/base/{_expired:N}/', 'local', NULL, NULL, NULL),
          ('{_copying}', '{_target}', 'Running', 'scheduled', '{T0.AddDays(1):O}', NULL, 0, NULL, NULL, NULL,
           0, 'pitr/{_target:N}/base/{_copying:N}/', NULL, NULL, NULL, NULL),
          ('{_waiting}', '{_target}', 'Queued', 'first base backup of the window', '{T0.AddDays(2):O}', NULL, 0, NULL, NULL, NULL,
           0, 'pitr/{_target:N}/base/{_waiting:N}/', NULL, NULL, NULL, NULL);

        INSERT INTO pitr_restores ("Id", "TargetId", "RequestedBy", "RequestedAt", "TargetTime", "Zone", "Mode", "DataDirectory", "Port", "Status", "Phase",
                                   "BaseBackupId", "StoppedAt", "NextSteps", "RowCounts", "Error", "FinishedAt")
        VALUES
          ('{_restored}', '{_target}', 'ops@example.test', '{T0.AddHours(1):O}', '{T0.AddMinutes(30):O}', 'Europe/Paris', 'Verify', '/var/tmp/legacy-restored', 5499, 'Succeeded',
           'Paused at the target (read only)', '{_stored}', 'recovery stopping before commit of transaction 745', 'psql …', 'hellojohn.public.app_user 2000', NULL, '{T0.AddHours(1).AddMinutes(2):O}'),
          ('{_refused}', '{_target}', 'ops@example.test', '{T0.AddHours(2):O}', '{T0.AddMinutes(40):O}', 'UTC', 'Disaster', '/var/tmp/legacy-refused', 5498, 'Failed',
           'Staging 3 WAL segments from the archive', '{_stored}', NULL, NULL, NULL, 'WAL segment 000000010000000000000003 was in the window but is no longer in the archive.', '{T0.AddHours(2).AddMinutes(1):O}'),
          ('{_replaying}', '{_target}', 'ops@example.test', '{T0.AddHours(3):O}', '{T0.AddMinutes(50):O}', 'UTC', 'Verify', '/var/tmp/legacy-replaying', 5497, 'Running',
           'Starting PostgreSQL on port 5497 to replay WAL up to 2026-11-20 02:50:00 UTC, a phase longer than a run keeps', '{_stored}', NULL, NULL, NULL, NULL, NULL);
        """;

    private async Task<RunRecord> RunAsync(Guid id)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Set<RunRecord>().AsNoTracking().SingleAsync(r => r.Id == id);
    }

    private async Task<BaseBackupRecord> BaseBackupAsync(Guid id)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Set<BaseBackupRecord>().AsNoTracking().SingleAsync(b => b.Id == id);
    }

    [Fact]
    public async Task Upgrade_GivesEveryBaseBackupAndRestoreItsRun_KeepsTheirRecords_AndEndsWhatTheOldConsoleLeftRunning()
    {
        await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None);
        var pitr = _app.Service<PitrService>();

        // Base backups: the catalog keeps its statuses (an expired one stays expired) and each has its run.
        var stored = await RunAsync(_stored);
        Assert.Equal((RunKind.BaseBackup, RunStatus.Succeeded, "ops@example.test"), (stored.Kind, stored.Status, stored.RequestedBy));
        Assert.Equal(BaseBackupStatus.Succeeded, (await BaseBackupAsync(_stored)).Status);
        Assert.Equal("0/2000100", (await BaseBackupAsync(_stored)).EndLsn);
        Assert.Equal((RunStatus.Succeeded, BaseBackupStatus.Expired), ((await RunAsync(_expired)).Status, (await BaseBackupAsync(_expired)).Status));
        var copying = await RunAsync(_copying);
        Assert.Equal((RunStatus.Failed, RunFailureKind.OwnerLost), (copying.Status, copying.FailureKind));
        Assert.Contains("stopped before it finished", copying.Error);
        Assert.Equal(BaseBackupStatus.Failed, (await BaseBackupAsync(_copying)).Status);
        var cancelled = await pitr.CancelBaseBackupAsync(Admin, _waiting, CancellationToken.None);
        Assert.Equal(RunCancelOutcome.EndedBeforeStart, cancelled.Outcome);
        Assert.Equal(BaseBackupStatus.Cancelled, (await BaseBackupAsync(_waiting)).Status);

        // Restores: what they found stays on their record, their lifecycle is their run.
        var restored = (await pitr.GetRestoreAsync(_restored, CancellationToken.None))!;
        Assert.Equal((RunKind.PitrRestore, RunStatus.Succeeded, "ops@example.test", T0.AddHours(1)), (restored.Run!.Kind, restored.Run.Status, restored.Run.RequestedBy, restored.Run.CreatedAt));
        Assert.Equal(("Paused at the target (read only)", "hellojohn.public.app_user 2000"), (restored.Run.Phase, restored.RowCounts));
        Assert.Equal(TimeSpan.FromMinutes(2), restored.Run.Duration);
        var refused = (await pitr.GetRestoreAsync(_refused, CancellationToken.None))!;
        Assert.Equal(RunStatus.Failed, refused.Run!.Status);
        Assert.StartsWith("WAL segment 000000010000000000000003", refused.Run.Error);
        var replaying = (await pitr.GetRestoreAsync(_replaying, CancellationToken.None))!;
        Assert.Equal((RunStatus.Failed, RunFailureKind.OwnerLost), (replaying.Run!.Status, replaying.Run.FailureKind));
        Assert.Contains("pg_ctl -D /var/tmp/legacy-replaying -m immediate stop", replaying.Run.Error);
        Assert.Null(replaying.DataDirectoryCreated);
        Assert.Equal(3, (await pitr.GetOverviewAsync(_target, CancellationToken.None)).Restores.Count);
    }
}
