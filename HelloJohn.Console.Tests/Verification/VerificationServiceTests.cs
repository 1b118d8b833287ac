using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Restores;
using Microsoft.EntityFrameworkCore;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Verification;

[Trait("Capability", "Verification")]
[Collection(PostgresCollection.Name)]
public sealed class VerificationServiceTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    // The leftover tests plant a dead instance's run: the console's own periodic sweep is kept out of their way.
    private readonly ConsoleAppFactory _app = new(postgres) { Settings = { ["Runs:SweepInterval"] = "00:10:00" } };

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    private VerificationService Verifications => _app.Service<VerificationService>();

    [Fact]
    public async Task Verify_BackupOfDemoDatabase_PassesWithEqualCountsForEveryTableAndDropsDatabase()
    {
        var (backupId, _) = await _app.BackUpAsync();

        var result = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

        Assert.True(result.Run.Status == VerificationStatus.Passed, result.Run.Error);
        Assert.Null(result.Run.Error);
        Assert.Equal(7, result.Tables.Count);
        Assert.Equal(["hj_user", "hj_session"], result.Tables.Take(2).Select(t => t.Table));
        Assert.All(result.Tables, t => Assert.Equal(t.Expected, t.Actual));
        Assert.All(result.Tables, t => Assert.True(t.Matches));
        Assert.Equal(PostgresClusterFixture.DemoUsers, result.Tables.Single(t => t.Table == "hj_user").Actual);
        foreach (var t in result.Tables)
        {
            Assert.Equal(await postgres.CountAsync(postgres.Demo, t.Table), t.Actual);
        }

        Assert.Matches(@"^hellojohn_verify_\d+(_\d+)?$", result.Run.DatabaseName);
        Assert.True(result.Run.DatabaseDropped);
        Assert.DoesNotContain(result.Run.DatabaseName, await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        Assert.NotNull(result.Run.RestoreDuration);
        Assert.True(result.Run.Duration >= result.Run.RestoreDuration);
        Assert.Equal(result.Tables.Sum(t => t.Actual), result.Run.RowsCounted);

        await using var db = await _app.DbAsync();
        var audit = await db.AuditEvents.Where(a => a.Action.StartsWith("verification.")).OrderBy(a => a.Id).ToListAsync();
        Assert.Equal([AuditActions.VerificationRequested, AuditActions.VerificationFinished], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(AuditOutcome.Succeeded, a.Outcome));
        Assert.All(audit, a => Assert.Equal(Operator.Name, a.Actor));
    }

    public static TheoryData<string> Damages => ["flip", "truncate", "delete-manifest", "garble-manifest"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Verify_DamagedBackup_FailsBeforeCreatingAnyDatabase(string damage)
    {
        var (backupId, file) = await _app.BackUpAsync();
        var before = await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix);
        var expectedCheck = await DamageAsync(file, damage);

        var result = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

        Assert.Equal(VerificationStatus.Failed, result.Run.Status);
        Assert.Equal(expectedCheck.ToString(), result.Run.FailedCheck);
        Assert.Contains(expectedCheck.Describe(), result.Run.Error);
        Assert.Contains("No database was created", result.Run.Error);
        Assert.Null(result.Run.DatabaseName);
        Assert.Empty(result.Tables);
        Assert.Equal(before, await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        var badge = (await Verifications.LatestForBackupsAsync([backupId], CancellationToken.None))[backupId];
        Assert.Equal(VerificationBadgeState.Failed, badge.State);
    }

    internal static async Task<ArchiveCheck> DamageAsync(string file, string damage)
    {
        switch (damage)
        {
            case "flip":
                await FlipMiddleByteAsync(file);
                return ArchiveCheck.Checksum;
            case "truncate":
                Truncate(file);
                return ArchiveCheck.Checksum;
            case "delete-manifest":
                File.Delete(file + BackupManifest.Suffix);
                return ArchiveCheck.Manifest;
            default:
                await File.WriteAllTextAsync(file + BackupManifest.Suffix, "{ \"backupId\": ");
                return ArchiveCheck.Manifest;
        }
    }

    [Fact]
    public async Task Verify_ManifestCountsDifferFromDump_FailsNamesTheTableAndDropsDatabase()
    {
        var (backupId, file) = await _app.BackUpAsync();
        // The manifest is not covered by the dump's SHA-256: a count that disagrees with the dump must be caught by counting.
        var manifestPath = file + BackupManifest.Suffix;
        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(manifestPath));
        var tampered = manifest with { Tables = [.. manifest.Tables.Select(t => t.Table == "hj_session" ? t with { Rows = t.Rows + 1 } : t)] };
        await File.WriteAllBytesAsync(manifestPath, tampered.ToJsonBytes());

        var result = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

        Assert.Equal(VerificationStatus.Failed, result.Run.Status);
        Assert.Contains("hj_session", result.Run.Error);
        var session = result.Tables.Single(t => t.Table == "hj_session");
        Assert.False(session.Matches);
        Assert.Equal(session.Actual + 1, session.Expected);
        Assert.All(result.Tables.Where(t => t.Table != "hj_session"), t => Assert.True(t.Matches, t.QualifiedName));
        Assert.NotNull(result.Run.DatabaseName);
        Assert.True(result.Run.DatabaseDropped, result.Run.Error);
        Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
    }

    [Fact]
    public async Task Verify_CancelledWhileRestoring_DropsDatabaseAndRecordsCancelled()
    {
        var (backupId, _) = await _app.BackUpAsync();
        using var cts = new CancellationTokenSource();
        string? databaseSeenWhileRestoring = null;
        void OnProgress(RunProgress p)
        {
            if (p.Kind == RunKind.Verification && p.PhaseAs<RestorePhase>() == RestorePhase.Restoring && databaseSeenWhileRestoring is null)
            {
                databaseSeenWhileRestoring = postgres.DatabasesAsync(DatabaseNames.VerificationPrefix).GetAwaiter().GetResult().SingleOrDefault();
                cts.Cancel();
            }
        }

        _app.Service<RunProgressNotifier>().Changed += OnProgress;
        VerificationRunDetails result;
        try
        {
            result = await Verifications.VerifyAsync(Operator, backupId, cts.Token);
        }
        finally
        {
            _app.Service<RunProgressNotifier>().Changed -= OnProgress;
        }

        // It existed while restoring, and is gone afterwards.
        Assert.NotNull(databaseSeenWhileRestoring);
        Assert.Equal(databaseSeenWhileRestoring, result.Run.DatabaseName);
        Assert.Equal(VerificationStatus.Cancelled, result.Run.Status);
        Assert.True(result.Run.DatabaseDropped);
        Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
    }

    [Fact]
    public async Task Cancel_WhileRestoring_StopsTheRunDropsItsDatabaseAndAuditsWhoCancelled()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var cancelled = new TaskCompletionSource();
        Guid? runId = null;
        void OnProgress(RunProgress p)
        {
            if (p.Kind == RunKind.Verification && p.PhaseAs<RestorePhase>() == RestorePhase.Restoring && runId is null)
            {
                runId = p.RunId;
                // As the Cancel button does: from another caller, while the run is in pg_restore.
                _ = Task.Run(async () =>
                {
                    await Verifications.CancelAsync(Operator, p.RunId, CancellationToken.None);
                    cancelled.SetResult();
                });
            }
        }

        _app.Service<RunProgressNotifier>().Changed += OnProgress;
        VerificationRunDetails result;
        try
        {
            result = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);
        }
        finally
        {
            _app.Service<RunProgressNotifier>().Changed -= OnProgress;
        }

        await cancelled.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(runId, result.Run.Id);
        Assert.Equal(VerificationStatus.Cancelled, result.Run.Status);
        Assert.True(result.Run.DatabaseDropped);
        Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        await using var db = await _app.DbAsync();
        var audit = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.VerificationCancelled);
        Assert.Equal(Operator.Name, audit.Actor);
        Assert.Equal(AuditOutcome.Succeeded, audit.Outcome);
    }

    [Fact]
    public async Task Cancel_QueuedRun_EndsItBeforeItStartsAndTheJobThenDoesNothing()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var runId = await _app.QueuedVerificationAsync(backupId);

        await Verifications.CancelAsync(Operator, runId, CancellationToken.None);
        // The job comes round anyway (it was already picked up): it finds the run cancelled and leaves it.
        await Verifications.RunAsync(runId, CancellationToken.None);

        var run = (await Verifications.GetAsync(runId, CancellationToken.None))!.Run;
        Assert.Equal(VerificationStatus.Cancelled, run.Status);
        Assert.Null(run.StartedAt);
        Assert.Null(run.DatabaseName);
        Assert.Contains("before it started", run.Error);
        Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
    }

    [Fact]
    public async Task Cancel_FinishedRunOrUnknownRunOrAsViewer_IsRefusedAndChangesNothing()
    {
        var (backupId, _) = await _app.BackUpAsync();
        var finished = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Verifications.CancelAsync(Operator, finished.Run.Id, CancellationToken.None));
        Assert.Contains("already passed", e.Message);
        Assert.Contains("Nothing was changed", e.Message);
        var unknown = await Assert.ThrowsAsync<KeyNotFoundException>(() => Verifications.CancelAsync(Operator, Guid.NewGuid(), CancellationToken.None));
        Assert.Contains("Nothing was cancelled", unknown.Message);
        var queued = await _app.QueuedVerificationAsync(backupId);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Verifications.CancelAsync(Viewer, queued, CancellationToken.None));

        Assert.Equal(VerificationStatus.Passed, (await Verifications.GetAsync(finished.Run.Id, CancellationToken.None))!.Run.Status);
        Assert.Equal(VerificationStatus.Queued, (await Verifications.GetAsync(queued, CancellationToken.None))!.Run.Status);
        await using var db = await _app.DbAsync();
        var denied = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.VerificationCancelled);
        Assert.Equal(AuditOutcome.Denied, denied.Outcome);
    }

    [Fact]
    public async Task Verify_LeftoverOfCrashedRun_IsDroppedReportedAndItsRunMarkedFailed()
    {
        var (backupId, _) = await _app.BackUpAsync();
        const string leftover = "hellojohn_verify_1700000000";
        await ExecuteAsync(postgres.Demo, $"CREATE DATABASE {leftover}");
        var crashedId = await PlantCrashedVerificationAsync(backupId, leftover);

        var result = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

        Assert.True(result.Run.Status == VerificationStatus.Passed, result.Run.Error);
        Assert.Contains($"{leftover} (dropped)", result.Run.Leftovers);
        Assert.Empty(await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        var crashed = await Verifications.GetAsync(crashedId, CancellationToken.None);
        Assert.Equal(VerificationStatus.Failed, crashed!.Run.Status);
        Assert.Contains("stopped before it finished", crashed.Run.Error);
        Assert.True(crashed.Run.DatabaseDropped);
    }

    /// <summary>What a console that died mid-verification leaves: a running run naming its database (and where it
    /// restored), owned by an instance that no longer holds its lock.</summary>
    private async Task<Guid> PlantCrashedVerificationAsync(Guid backupId, string database, string? server = null)
    {
        var crashedId = Guid.NewGuid();
        var deadInstance = await _app.AddDeadInstanceAsync();
        await using var db = await _app.DbAsync();
        var backup = await db.Backups.SingleAsync(b => b.Id == backupId);
        db.Add(RunFixtures.Run(RunKind.Verification, backup.TargetId, crashedId, deadInstance, nameof(RestorePhase.Restoring)));
        db.Add(new VerificationRun { Id = crashedId, BackupId = backupId, BackupFileName = backup.FileName, DatabaseName = database, Server = server });
        await db.SaveChangesAsync();
        return crashedId;
    }

    [Fact]
    public async Task SweptRunOfADeadConsole_ThatVerifiedInItsScratchCluster_LeavesTheTargetServerAlone()
    {
        var (backupId, _) = await _app.BackUpAsync();
        // A database of the same name on the target's server belongs to something else: the dead run never used it.
        const string sameName = "hellojohn_verify_1700000123";
        await ExecuteAsync(postgres.Demo, $"CREATE DATABASE {sameName}");
        try
        {
            var crashedId = await PlantCrashedVerificationAsync(backupId, sameName, "the console's scratch cluster (PostgreSQL 15, 127.0.0.1:1)");

            Assert.Equal(1, await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None));

            var crashed = await Verifications.GetAsync(crashedId, CancellationToken.None);
            Assert.Equal(VerificationStatus.Failed, crashed!.Run.Status);
            Assert.Contains("stopped before it finished", crashed.Run.Error);
            Assert.Contains("private scratch cluster", crashed.Run.Error);
            Assert.Contains(sameName, await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        }
        finally
        {
            await ExecuteAsync(postgres.Demo, $"DROP DATABASE IF EXISTS {sameName}");
        }
    }

    [Fact]
    public async Task Verify_LeftoverStillInUse_IsLeftAloneAndReported()
    {
        var (backupId, _) = await _app.BackUpAsync();
        const string busy = "hellojohn_verify_1600000000";
        await ExecuteAsync(postgres.Demo, $"CREATE DATABASE {busy}");
        try
        {
            await using var session = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(postgres.Demo.WithDatabase(busy).ConnectionString) { Pooling = false }.ConnectionString);
            await session.OpenAsync();

            var result = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

            Assert.True(result.Run.Status == VerificationStatus.Passed, result.Run.Error);
            Assert.Contains($"{busy} (in use by 1 session(s), left alone)", result.Run.Leftovers);
            Assert.Contains(busy, await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        }
        finally
        {
            await postgres.DropDatabaseAsync(busy);
        }
    }

    [Fact]
    public async Task Verify_AsViewer_IsDeniedAuditedAndNothingRuns()
    {
        var (backupId, _) = await _app.BackUpAsync();

        await Assert.ThrowsAsync<PermissionDeniedException>(() => Verifications.VerifyAsync(Viewer, backupId, CancellationToken.None));

        await using var db = await _app.DbAsync();
        Assert.Empty(await db.Set<VerificationRun>().ToListAsync());
        var denied = await db.AuditEvents.SingleAsync(a => a.Action == AuditActions.VerificationRequested);
        Assert.Equal(AuditOutcome.Denied, denied.Outcome);
        Assert.Equal(Viewer.Name, denied.Actor);
    }

    [Fact]
    public async Task Verify_UnknownBackup_IsRefusedWithReason()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Verifications.VerifyAsync(Operator, Guid.NewGuid(), CancellationToken.None));

        Assert.Contains("no backup", e.Message);
        Assert.Contains("Nothing was started", e.Message);
    }

    [Fact]
    public async Task VerifyNewest_WithTwoBackups_VerifiesTheNewestAsScheduled()
    {
        var (older, _) = await _app.BackUpAsync();
        var (newest, _) = await _app.BackUpAsync();

        await _app.Service<IScheduledVerificationJob>().RunScheduledAsync(await _app.DefaultTargetAsync(), CancellationToken.None);

        var runs = (await Verifications.QueryAsync(0, 10, null, CancellationToken.None)).Items;
        var run = Assert.Single(runs);
        Assert.Equal(newest, run.BackupId);
        Assert.Equal(VerificationTrigger.Scheduled, run.Trigger);
        Assert.Equal(VerificationStatus.Passed, run.Status);
        var badges = await Verifications.LatestForBackupsAsync([older, newest], CancellationToken.None);
        Assert.Equal(VerificationBadgeState.Never, badges[older].State);
        Assert.Equal(VerificationBadgeState.Verified, badges[newest].State);
    }

    [Fact]
    public async Task LatestForBackups_FailedThenPassed_ShowsVerified()
    {
        var (backupId, file) = await _app.BackUpAsync();
        var good = await File.ReadAllBytesAsync(file);
        await FlipMiddleByteAsync(file);
        await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);
        Assert.Equal(VerificationBadgeState.Failed, (await Verifications.LatestForBackupsAsync([backupId], CancellationToken.None))[backupId].State);

        await File.WriteAllBytesAsync(file, good);
        await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

        var badge = (await Verifications.LatestForBackupsAsync([backupId], CancellationToken.None))[backupId];
        Assert.Equal(VerificationBadgeState.Verified, badge.State);
        Assert.False(badge.InProgress);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Backup_VerifyAfterEveryBackupOption_QueuesVerificationOnlyWhenOn(bool on)
    {
        _app.Settings["Verification:VerifyAfterEveryBackup"] = on ? "true" : "false";

        var (backupId, _) = await _app.BackUpAsync();

        await using var db = await _app.DbAsync();
        var runs = await db.Set<VerificationRun>().Include(r => r.Run).Where(r => r.BackupId == backupId).ToListAsync();
        if (on)
        {
            var run = Assert.Single(runs);
            Assert.Equal(VerificationTrigger.AfterBackup, run.Trigger);
            Assert.Equal(Actor.System.Name, run.RequestedBy);
            Assert.NotNull(run.JobId);
            // The job runs on the app's own background server: let it finish, so no throw-away database outlives this test.
            var finished = await WaitUntilFinishedAsync(run.Id);
            Assert.True(finished.Status == VerificationStatus.Passed, finished.Error);
            Assert.True(finished.DatabaseDropped);
        }
        else
        {
            Assert.Empty(runs);
        }
    }

    private async Task<VerificationRunItem> WaitUntilFinishedAsync(Guid runId)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            var run = (await Verifications.GetAsync(runId, CancellationToken.None))!.Run;
            if (!run.IsActive)
            {
                return run;
            }

            await Task.Delay(200, patience.Token);
        }
    }

    [Fact]
    public async Task Verify_RecentLeftoverUnknownToThisConsole_IsLeftAloneAndReported()
    {
        var (backupId, _) = await _app.BackUpAsync();
        // Made a minute ago by something else sharing the server (another console, HelloJohn's own script).
        var recent = DatabaseNames.ForVerification(DateTimeOffset.UtcNow.AddMinutes(-1));
        await ExecuteAsync(postgres.Demo, $"CREATE DATABASE {recent}");
        try
        {
            var result = await Verifications.VerifyAsync(Operator, backupId, CancellationToken.None);

            Assert.True(result.Run.Status == VerificationStatus.Passed, result.Run.Error);
            Assert.Contains($"{recent} (not made by this console and younger than 24 h, left alone)", result.Run.Leftovers);
            Assert.Contains(recent, await postgres.DatabasesAsync(DatabaseNames.VerificationPrefix));
        }
        finally
        {
            await postgres.DropDatabaseAsync(recent);
        }
    }
}
