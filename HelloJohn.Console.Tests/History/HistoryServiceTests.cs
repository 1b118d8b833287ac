using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.History;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.History;

[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class HistoryServiceTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres);

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Get_CatalogWithExpiredFailedAndCancelledRuns_CountsExpiredAsSucceededAndDrawsEveryRunOnce()
    {
        var target = (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
        var other = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await using (var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            db.Targets.Add(new BackupTarget { Id = other, Name = "staging", CreatedAt = now });
            var n = 0;
            void Add(Guid targetId, double daysAgo, BackupStatus status, long? size, double seconds, bool started = true)
            {
                var at = now.AddDays(-daysAgo);
                db.Backups.Add(new BackupRecord
                {
                    Id = Guid.NewGuid(), TargetId = targetId, FileName = $"hellojohn_history_{n++:00}.dump.zst", Status = status, CreatedAt = at,
                    StartedAt = started ? at : null, FinishedAt = started ? at.AddSeconds(seconds) : null, SizeBytes = size,
                    ExpiredAt = status == BackupStatus.Expired ? now.AddDays(-1) : null,
                    Error = status == BackupStatus.Failed ? "Could not reach the database. Nothing was backed up." : null,
                });
            }

            Add(target, 40, BackupStatus.Succeeded, 1000, 1); // before the window
            Add(target, 20, BackupStatus.Expired, 2000, 10);
            Add(target, 19, BackupStatus.Expired, 2100, 12);
            Add(target, 5, BackupStatus.Succeeded, 3000, 30);
            Add(target, 4, BackupStatus.Failed, null, 2);
            Add(target, 3, BackupStatus.PartiallyStored, 3100, 25);
            Add(target, 2, BackupStatus.Cancelled, null, 0, started: false);
            Add(target, 1, BackupStatus.Succeeded, 4000, 20);
            Add(target, 0, BackupStatus.Running, null, 0);
            Add(other, 1, BackupStatus.Failed, null, 1); // another target's
            void Verification(string file, RunStatus status, DateTimeOffset at, TimeSpan? took, string? error = null)
            {
                var id = Guid.NewGuid();
                db.Add(RunFixtures.Ended(RunKind.Verification, target, id, status, at, at, took is { } t ? at + t : null, error));
                db.Add(new VerificationRun { Id = id, BackupFileName = file });
            }

            Verification("hellojohn_history_03.dump.zst", RunStatus.Succeeded, now.AddDays(-5), TimeSpan.FromSeconds(40));
            Verification("hellojohn_history_05.dump.zst", RunStatus.Failed, now.AddDays(-3), TimeSpan.FromSeconds(5), "hj_user: 5000 in the manifest, 4999 restored");
            Verification("hellojohn_history_07.dump.zst", RunStatus.Running, now, null);
            var recoveries = new[]
            {
                new RecoveryRun { Id = Guid.NewGuid(), TargetId = target, Scenario = RecoveryScenario.Drill, Status = RecoveryRunStatus.Completed, StartedBy = "system",
                    StartedAt = now.AddDays(-2).AddMinutes(-3), EndedAt = now.AddDays(-2), Rto = TimeSpan.FromMinutes(3), BackupFileName = "hellojohn_history_03.dump.zst" },
                new RecoveryRun { Id = Guid.NewGuid(), TargetId = target, Scenario = RecoveryScenario.DatabaseHostFailure, Status = RecoveryRunStatus.Completed, StartedBy = "ops",
                    StartedAt = now.AddDays(-1).AddMinutes(-9), EndedAt = now.AddDays(-1), Rto = TimeSpan.FromMinutes(9) },
            };
            foreach (var r in recoveries)
            {
                // Every wizard run is a run of the lifecycle too; its record comes first.
                db.Add(RunFixtures.Ended(RunKind.Recovery, target, r.Id, RunStatus.Succeeded, r.StartedAt, r.StartedAt, r.EndedAt, requestedBy: r.StartedBy));
            }

            db.Set<RecoveryRun>().AddRange(recoveries);
            await db.SaveChangesAsync();
        }

        var report = await _app.Service<HistoryService>().GetAsync(new HistoryQuery(target, TimeSpan.FromDays(30)), CancellationToken.None);

        Assert.Equal(new BackupCounts(Succeeded: 4, ExpiredSince: 2, PartiallyStored: 1, Failed: 1, Cancelled: 1), report.Counts);
        Assert.Equal(7, report.Backups.Count);
        Assert.True(report.Backups.Zip(report.Backups.Skip(1)).All(p => p.First.At <= p.Second.At));
        Assert.Equal(2, report.Backups.Count(p => p.Outcome == HistoryOutcome.SucceededThenExpired));
        Assert.Equal(4000, report.LatestSizeBytes);
        Assert.Equal(16, report.MedianDurationSeconds!.Value, 3); // 10, 12, 20, 30: expired runs are successes too
        Assert.Equal(report.Counts.Attempted, report.Weeks.Sum(w => w.Counts.Attempted));
        Assert.Equal([true, false], report.Verifications.Select(v => v.Passed));
        Assert.Equal(40, report.Verifications[0].DurationSeconds!.Value, 3);
        var drill = Assert.Single(report.Drills);
        Assert.Equal(180, drill.RtoSeconds!.Value, 3);
        Assert.False(report.Truncated);

        var everyTarget = await _app.Service<HistoryService>().GetAsync(new HistoryQuery(null, TimeSpan.FromDays(30)), CancellationToken.None);
        Assert.Equal(2, everyTarget.Counts.Failed);
    }

    [Fact]
    public async Task Get_OneDatabaseOfADeployment_DrawsOnlyItsBackupsAndListsTheControlPlaneFirst()
    {
        var target = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await using (var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            db.Targets.Add(new BackupTarget { Id = target, Name = $"sets-{target:N}"[..20], CreatedAt = now.AddDays(-10) });
            var n = 0;
            foreach (var (database, size) in new[] { ("zz_control", 5_000L), ("tenant_a", 100L), ("tenant_b", 200L), ("zz_control", 5_100L) })
            {
                var at = now.AddHours(-(10 - n));
                db.Backups.Add(new BackupRecord
                {
                    Id = Guid.NewGuid(), TargetId = target, DatabaseName = database, FileName = $"{database}_history_{n++:00}_{target:N}.dump.zst",
                    Status = BackupStatus.Succeeded, CreatedAt = at, StartedAt = at, FinishedAt = at.AddSeconds(3), SizeBytes = size,
                });
            }

            await db.SaveChangesAsync();
        }

        var history = _app.Service<HistoryService>();
        var control = await history.GetAsync(new HistoryQuery(target, TimeSpan.FromDays(7), "zz_control"), CancellationToken.None);
        var every = await history.GetAsync(new HistoryQuery(target, TimeSpan.FromDays(7)), CancellationToken.None);

        Assert.Equal([5_000L, 5_100L], control.Backups.Select(b => b.SizeBytes!.Value));
        Assert.Equal(4, every.Backups.Count);
        // The one named by HELLOJOHN_DATABASE_URL first, though another sorts before it.
        Assert.Equal(["zz_control", "tenant_a", "tenant_b"], await history.DatabasesAsync(target, "zz_control", TimeSpan.FromDays(7), CancellationToken.None));
    }

    [Fact]
    public async Task Get_ZeroWindow_IsRefused() =>
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            _app.Service<HistoryService>().GetAsync(new HistoryQuery(null, TimeSpan.Zero), CancellationToken.None));
}
