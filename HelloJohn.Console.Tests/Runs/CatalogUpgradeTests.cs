using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Runs;

/// <summary>A catalog written by the console before the run lifecycle upgrades in place: every backup, verification,
/// restore, recovery run and audit record is still there and readable; what was queued can still be cancelled; what
/// was running under the old console is ended by the sweep with the reason.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class CatalogUpgradeTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    /// <summary>The last migration before the run lifecycle.</summary>
    private const string PreviousSchema = "20261129111431_PointInTimeRecovery";

    private static readonly Actor Admin = new("admin-1", "admin@example.test", [ConsoleRoles.Admin]);
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 2, 0, 0, TimeSpan.Zero);

    private readonly ConsoleAppFactory _app = new(postgres) { Settings = { ["Runs:SweepInterval"] = "00:10:00" } };
    private readonly Guid _target = Guid.NewGuid();
    private readonly Guid _good = Guid.NewGuid(), _unreachable = Guid.NewGuid(), _running = Guid.NewGuid(), _queued = Guid.NewGuid(), _expired = Guid.NewGuid(), _imported = Guid.NewGuid();
    private readonly Guid _passed = Guid.NewGuid(), _verifyQueued = Guid.NewGuid(), _verifyRunning = Guid.NewGuid();
    private readonly Guid _restored = Guid.NewGuid(), _restoreQueued = Guid.NewGuid();
    private readonly Guid _wizard = Guid.NewGuid(), _drill = Guid.NewGuid();

    public async Task InitializeAsync()
    {
        await _app.InitializeAsync();
        await PreviousCatalog.WriteAsync(_app, PreviousSchema, PreviousCatalogSql());
    }

    public Task DisposeAsync() => _app.DisposeAsync();

    private string PreviousCatalogSql() => $"""
        INSERT INTO targets ("Id", "Name", "ConnectionSource", "Provider", "DisplayAddress", "CreatedAt")
        VALUES ('{_target}', 'legacy', 'Environment', 'SelfManaged', 'hellojohn@db:5432/hellojohn', '{T0:O}');

        INSERT INTO backups ("Id", "TargetId", "FileName", "Status", "Trigger", "RequestedBy", "CreatedAt", "StartedAt", "FinishedAt", "BytesWritten",
                             "SizeBytes", "Sha256", "Error", "Format", "Compression", "Tier", "Pinned", "JobId", "RunnerHost", "RunnerPid", "HeartbeatAt", "ExpiredAt")
        VALUES
          ('{_good}', '{_target}', 'hellojohn_20261120_020000.dump.zst', 'Succeeded', 'Scheduled', 'system', '{T0:O}', '{T0:O}', '{T0.AddSeconds(30):O}', 4096,
           4096, '{new string('a', 64)}', NULL, 'custom', 'zstd:1', 'daily', true, '1', 'old-host', 4242, '{T0.AddSeconds(30):O}', NULL),
          ('{_unreachable}', '{_target}', 'hellojohn_20261121_020000.dump.zst', 'Failed', 'Scheduled', 'system', '{T0.AddDays(1):O}', '{T0.AddDays(1):O}', '{T0.AddDays(1):O}', 0,
           NULL, NULL, 'Could not reach hellojohn@db:5432/hellojohn: the server did not answer. Nothing was backed up.', 'custom', 'zstd:1', 'daily', false, '2', 'old-host', 4242, NULL, NULL),
          ('{_running}', '{_target}', 'hellojohn_20261122_020000.dump.zst', 'Running', 'Manual', 'ops@example.test', '{T0.AddDays(2):O}', '{T0.AddDays(2):O}', NULL, 1024,
           NULL, NULL, NULL, 'custom', 'zstd:1', 'daily', false, '3', 'old-host', 4242, '{T0.AddDays(2):O}', NULL),
          ('{_queued}', '{_target}', 'hellojohn_20261123_020000.dump.zst', 'Queued', 'Manual', 'ops@example.test', '{T0.AddDays(3):O}', NULL, NULL, 0,
           NULL, NULL, NULL, 'custom', 'zstd:1', 'daily', false, '4', NULL, NULL, NULL, NULL),
          ('{_expired}', '{_target}', 'hellojohn_20261101_020000.dump', 'Expired', 'Scheduled', 'system', '{T0.AddDays(-19):O}', '{T0.AddDays(-19):O}', '{T0.AddDays(-19):O}', 2048,
           2048, '{new string('b', 64)}', NULL, 'custom', 'gzip:9', 'daily', false, '5', 'old-host', 4242, NULL, '{T0:O}'),
          ('{_imported}', '{_target}', 'hellojohn_20261001_020000.dump', 'Succeeded', 'Imported', 'catalog rebuild', '{T0.AddDays(-50):O}', '{T0.AddDays(-50):O}', '{T0.AddDays(-50):O}', 1024,
           1024, '{new string('c', 64)}', NULL, 'custom', 'gzip:9', 'weekly', false, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO backup_table_counts ("BackupId", "Schema", "Table", "Rows") VALUES ('{_good}', 'public', 'app_user', 2000), ('{_good}', 'public', 'sessions', 6000);
        INSERT INTO backup_locations ("BackupId", "Store", "Key", "StoredAt") VALUES ('{_good}', 'local', 'hellojohn_20261120_020000.dump.zst', '{T0.AddSeconds(30):O}');

        INSERT INTO verification_runs ("Id", "BackupId", "BackupFileName", "TargetId", "DatabaseName", "Server", "Status", "Trigger", "Phase", "RequestedBy",
                                       "CreatedAt", "StartedAt", "FinishedAt", "RestoreDuration", "Jobs", "RowsCounted", "DatabaseDropped", "JobId", "Error")
        VALUES
          ('{_passed}', '{_good}', 'hellojohn_20261120_020000.dump.zst', '{_target}', 'hellojohn_verify_1763604060', 'db:5432', 'Passed', 'Scheduled', 'Done', 'system',
           '{T0.AddHours(1):O}', '{T0.AddHours(1):O}', '{T0.AddHours(1).AddSeconds(20):O}', '00:00:12', 2, 8000, true, '6', NULL),
          ('{_verifyQueued}', '{_good}', 'hellojohn_20261120_020000.dump.zst', '{_target}', NULL, NULL, 'Queued', 'Manual', 'Queued', 'ops@example.test',
           '{T0.AddHours(2):O}', NULL, NULL, NULL, 2, NULL, NULL, '7', NULL),
          ('{_verifyRunning}', '{_good}', 'hellojohn_20261120_020000.dump.zst', '{_target}', 'hellojohn_verify_1763611260', 'db:5432', 'Running', 'Manual', 'Restoring', 'ops@example.test',
           '{T0.AddHours(3):O}', '{T0.AddHours(3):O}', NULL, NULL, 2, NULL, NULL, '8', NULL);
        INSERT INTO verification_table_counts ("RunId", "Schema", "Table", "Expected", "Actual")
        VALUES ('{_passed}', 'public', 'app_user', 2000, 2000), ('{_passed}', 'public', 'sessions', 6000, 6000);

        INSERT INTO restore_runs ("Id", "BackupId", "BackupFileName", "TargetId", "Mode", "DatabaseName", "Server", "ReplaceExisting", "Status", "Phase", "RequestedBy",
                                  "CreatedAt", "StartedAt", "FinishedAt", "RestoreStartedAt", "Jobs", "CountsMatch", "RowsRestored", "JobId", "Error")
        VALUES
          ('{_restored}', '{_good}', 'hellojohn_20261120_020000.dump.zst', '{_target}', 'NewDatabase', 'hj_restored', 'db:5432', false, 'Succeeded', 'Done', 'ops@example.test',
           '{T0.AddHours(4):O}', '{T0.AddHours(4):O}', '{T0.AddHours(4).AddSeconds(40):O}', '{T0.AddHours(4).AddSeconds(5):O}', 2, true, 8000, '9', NULL),
          ('{_restoreQueued}', '{_good}', 'hellojohn_20261120_020000.dump.zst', '{_target}', 'NewDatabase', 'hj_later', 'db:5432', false, 'Queued', 'Queued', 'ops@example.test',
           '{T0.AddHours(5):O}', NULL, NULL, NULL, 2, NULL, NULL, '10', NULL);
        INSERT INTO restore_table_counts ("RunId", "Schema", "Table", "Expected", "Actual")
        VALUES ('{_restored}', 'public', 'app_user', 2000, 2000), ('{_restored}', 'public', 'sessions', 6000, 6000);

        INSERT INTO recovery_runs ("Id", "Scenario", "TargetId", "Provider", "Status", "StartedBy", "StartedAt", "EndedAt", "EndedBy", "IncidentAt", "IncidentSource",
                                   "BackupId", "BackupFileName", "RecoveryPointAt", "Rpo", "Rto", "CreateNewDatabase", "NonEmptyConfirmed", "RestoreWritten", "ScratchDatabase")
        VALUES
          ('{_wizard}', 'DatabaseHostFailure', '{_target}', 'SelfManaged', 'Active', 'ops@example.test', '{T0.AddDays(4):O}', NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, false, false, false, NULL),
          ('{_drill}', 'Drill', '{_target}', 'SelfManaged', 'Completed', 'system', '{T0.AddDays(1).AddHours(3):O}', '{T0.AddDays(1).AddHours(3).AddMinutes(2):O}', 'system',
           '{T0.AddDays(1).AddHours(3):O}', 'RunStart', '{_good}', 'hellojohn_20261120_020000.dump.zst', '{T0:O}', '1 day 03:00:00', '00:01:30', true, false, true, 'hellojohn_drill_1763695800');
        INSERT INTO recovery_steps ("RunId", "Key", "Position", "Status", "StartedAt", "CompletedAt", "CompletedBy", "MarkedDoneByHand", "Attempts", "RunnerHost", "RunnerPid", "Message")
        VALUES
          ('{_wizard}', 'new-server', 1, 'Passed', '{T0.AddDays(4):O}', '{T0.AddDays(4):O}', 'ops@example.test', false, 1, NULL, NULL, 'Reachable.'),
          ('{_wizard}', 'choose-backup', 2, 'Running', '{T0.AddDays(4):O}', NULL, NULL, false, 1, 'old-host', 4242, NULL),
          ('{_wizard}', 'restore', 3, 'Pending', NULL, NULL, NULL, false, 0, NULL, NULL, NULL),
          ('{_wizard}', 'verify', 4, 'Pending', NULL, NULL, NULL, false, 0, NULL, NULL, NULL),
          ('{_wizard}', 'deploy-url', 5, 'Pending', NULL, NULL, NULL, false, 0, NULL, NULL, NULL),
          ('{_wizard}', 'restart', 6, 'Pending', NULL, NULL, NULL, false, 0, NULL, NULL, NULL),
          ('{_wizard}', 'health', 7, 'Pending', NULL, NULL, NULL, false, 0, NULL, NULL, NULL),
          ('{_drill}', 'scratch-database', 1, 'Passed', NULL, '{T0.AddDays(1).AddHours(3):O}', 'system', false, 1, NULL, NULL, NULL),
          ('{_drill}', 'choose-backup', 2, 'Passed', NULL, '{T0.AddDays(1).AddHours(3):O}', 'system', false, 1, NULL, NULL, NULL),
          ('{_drill}', 'restore', 3, 'Passed', NULL, '{T0.AddDays(1).AddHours(3).AddMinutes(1):O}', 'system', false, 1, NULL, NULL, NULL),
          ('{_drill}', 'verify', 4, 'Passed', NULL, '{T0.AddDays(1).AddHours(3).AddSeconds(90):O}', 'system', false, 1, NULL, NULL, NULL),
          ('{_drill}', 'drop-scratch', 5, 'Passed', NULL, '{T0.AddDays(1).AddHours(3).AddMinutes(2):O}', 'system', false, 1, NULL, NULL, NULL);
        INSERT INTO recovery_log_lines ("RunId", "StepKey", "At", "Level", "Text")
        VALUES ('{_wizard}', 'new-server', '{T0.AddDays(4):O}', 'Info', 'Check passed: Reachable.');

        INSERT INTO audit_events ("At", "Actor", "Action", "Target", "Outcome", "Detail")
        VALUES ('{T0:O}', 'ops@example.test', 'backup.requested', 'legacy: hellojohn_20261122_020000.dump.zst', 'Succeeded', 'trigger Manual'),
               ('{T0:O}', 'ops@example.test', 'restore.requested', 'NewDatabase → hj_later', 'Succeeded', 'from hellojohn_20261120_020000.dump.zst');
        """;

    [Fact]
    public async Task Upgrade_FromThePreviousSchema_KeepsEveryRecordReadableQueuedOnesCancellableAndEndsWhatTheOldConsoleLeftRunning()
    {
        var backups = _app.Service<BackupService>();
        // The start-up sweep ends what the console before the upgrade left running; a second sweep finds nothing left.
        await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None);
        Assert.Equal(0, await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None));

        // Backups: all six listed; the finished one with its counts and copies; a failure's kind is data now.
        var page = await backups.QueryAsync(new BackupQuery(PageSize: 50, TargetId: _target), CancellationToken.None);
        Assert.Equal(6, page.TotalCount);
        var good = (await backups.GetAsync(_good, CancellationToken.None))!;
        Assert.Equal((BackupStatus.Succeeded, 2, 1, true), (good.Backup.Status, good.Tables.Count, good.Locations.Count, good.Backup.Pinned));
        Assert.Equal(BackupStatus.Expired, (await backups.GetAsync(_expired, CancellationToken.None))!.Backup.Status);
        Assert.Equal(BackupStatus.Succeeded, (await backups.GetAsync(_imported, CancellationToken.None))!.Backup.Status);
        Assert.Equal(RunFailureKind.TargetUnreachable, (await _app.Service<RunQueries>().GetAsync(_unreachable, CancellationToken.None))!.FailureKind);
        var running = (await backups.GetAsync(_running, CancellationToken.None))!.Backup;
        Assert.Equal(BackupStatus.Failed, running.Status);
        Assert.Contains("stopped before it finished", running.Error);
        Assert.Contains("old-host", running.Error);
        var cancelled = await backups.CancelAsync(Admin, _queued, CancellationToken.None);
        Assert.Equal(RunCancelOutcome.EndedBeforeStart, cancelled.Outcome);
        Assert.Equal(BackupStatus.Cancelled, (await backups.GetAsync(_queued, CancellationToken.None))!.Backup.Status);

        // Verifications: listed, the passed one with its counts (and its backup's badge); the queued one cancellable.
        var verifications = _app.Service<VerificationService>();
        Assert.Equal(3, (await verifications.QueryAsync(0, 50, _good, CancellationToken.None)).TotalCount);
        var passed = (await verifications.GetAsync(_passed, CancellationToken.None))!;
        Assert.Equal((VerificationStatus.Passed, 2, 8000L), (passed.Run.Status, passed.Tables.Count, passed.Run.RowsCounted!.Value));
        var verifyRunning = (await verifications.GetAsync(_verifyRunning, CancellationToken.None))!.Run;
        Assert.Equal(VerificationStatus.Failed, verifyRunning.Status);
        Assert.Contains("stopped before it finished", verifyRunning.Error);
        // The newest verification of the backup is the one that died with the old console: the badge says so.
        var badge = (await verifications.LatestForBackupsAsync([_good], CancellationToken.None))[_good];
        Assert.Equal(VerificationBadgeState.Failed, badge.State);
        Assert.Contains("stopped before it finished", badge.Error);
        await verifications.CancelAsync(Admin, _verifyQueued, CancellationToken.None);
        Assert.Equal(VerificationStatus.Cancelled, (await verifications.GetAsync(_verifyQueued, CancellationToken.None))!.Run.Status);

        // Restores: listed, the finished one with its counts; the queued one cancellable.
        var restores = _app.Service<RestoreService>();
        Assert.Equal(2, (await restores.QueryAsync(0, 50, CancellationToken.None)).TotalCount);
        var restored = (await restores.GetAsync(_restored, CancellationToken.None))!;
        Assert.Equal((RestoreStatus.Succeeded, 2, "hj_restored"), (restored.Run.Status, restored.Tables.Count, restored.Run.DatabaseName));
        await restores.CancelAsync(Admin, _restoreQueued, CancellationToken.None);
        Assert.Equal(RestoreStatus.Cancelled, (await restores.GetAsync(_restoreQueued, CancellationToken.None))!.Run.Status);

        // Recovery: the wizard goes on (its interrupted step can be run again); the drill keeps its measured RTO.
        var recovery = _app.Service<RecoveryService>();
        Assert.Equal(2, (await recovery.ListAsync(new RecoveryRunQuery(PageSize: 50, TargetId: _target), CancellationToken.None)).TotalCount);
        var wizard = (await recovery.GetAsync(_wizard, CancellationToken.None))!;
        Assert.Equal(RecoveryRunStatus.Active, wizard.Run.Status);
        var interrupted = wizard.Steps.Single(s => s.Key == "choose-backup");
        Assert.Equal(RecoveryStepStatus.Failed, interrupted.Status);
        Assert.Contains("Run it again", interrupted.Message);
        Assert.True(interrupted.IsCurrent);
        Assert.Contains(wizard.Log, l => l.Text == "Check passed: Reachable.");
        var drill = (await recovery.GetLastDrillAsync(_target, CancellationToken.None))!;
        Assert.Equal((_drill, RecoveryRunStatus.Completed, TimeSpan.FromSeconds(90)), (drill.RunId, drill.Status, drill.Rto));

        // The audit trail lost nothing.
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.Equal(2, await db.AuditEvents.CountAsync(e => e.At == T0));
        Assert.Contains(await db.AuditEvents.Select(e => e.Action).ToListAsync(), a => a == AuditActions.BackupCancelled);
    }
}
