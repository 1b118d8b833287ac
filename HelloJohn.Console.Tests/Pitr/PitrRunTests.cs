using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Notifications;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>Base backups and point-in-time restores as runs of the shared lifecycle: phases and ends, the sweep after
/// their console died (what they stored, their scratch folder, the server a restore started and its directory), and
/// Cancel.</summary>
[Trait("Capability", "Pitr")]
public sealed class PitrRunTests(PitrFixture pitr) : IClassFixture<PitrFixture>
{
    private PitrService Service => pitr.App.Service<PitrService>();

    private async Task<RunRecord> RunAsync(Guid id)
    {
        await using var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Set<RunRecord>().AsNoTracking().SingleAsync(r => r.Id == id);
    }

    private async Task<BaseBackupRecord> BaseBackupAsync(Guid id)
    {
        await using var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Set<BaseBackupRecord>().AsNoTracking().SingleAsync(b => b.Id == id);
    }

    private async Task<List<AuditEvent>> AuditAsync(string action)
    {
        await using var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.AuditEvents.AsNoTracking().Where(a => a.Action == action).ToListAsync();
    }

    private Task WaitForEndAsync(Guid id) =>
        PitrFixture.WaitForAsync($"run {id} to end", async () => !(await RunAsync(id)).IsActive);

    /// <summary>The phases the lifecycle announces for <paramref name="kind"/>, in order, per run.</summary>
    private sealed class Phases : IDisposable
    {
        private readonly RunProgressNotifier _notifier;
        private readonly RunKind _kind;
        public ConcurrentQueue<RunProgress> Seen { get; } = new();

        public Phases(RunProgressNotifier notifier, RunKind kind)
        {
            _notifier = notifier;
            _kind = kind;
            notifier.Changed += OnChanged;
        }

        public event Action<RunProgress>? Running;

        private void OnChanged(RunProgress p)
        {
            if (p.Kind == _kind)
            {
                Seen.Enqueue(p);
                if (p.Status == RunStatus.Running)
                {
                    Running?.Invoke(p);
                }
            }
        }

        public List<string> Of(Guid id) => Seen.Where(p => p.RunId == id && p.Status == RunStatus.Running).Select(p => p.Phase ?? "").Distinct().ToList();

        public void Dispose() => _notifier.Changed -= OnChanged;
    }

    /// <summary>A restore target between two commits, as the restore tests make it.</summary>
    private async Task<string> RestorableTimeAsync()
    {
        var table = $"pitr_run_{Guid.NewGuid():N}"[..20];
        await pitr.QueryAsync<int>($"CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (1); SELECT 1");
        var t1 = await pitr.ServerNowAsync();
        var target = new DateTimeOffset(t1.UtcDateTime.Ticks - (t1.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
        await PitrFixture.WaitForAsync("the server clock to pass the target", async () => await pitr.ServerNowAsync() > target.AddMilliseconds(300));
        var before = await pitr.ServerNowAsync();
        await pitr.QueryAsync<int>($"INSERT INTO {table} VALUES (2); SELECT 1");
        await pitr.WaitForStreamedAsync(before);
        return target.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task BaseBackup_IsARunWithItsPhases_AndItsCatalogEntryEndsWithIt()
    {
        using var phases = new Phases(pitr.App.Service<RunProgressNotifier>(), RunKind.BaseBackup);

        var id = await Service.TakeBaseBackupAsync(PitrFixture.Operator, pitr.Server, CancellationToken.None);
        await WaitForEndAsync(id);

        var run = await RunAsync(id);
        Assert.Equal(RunKind.BaseBackup, run.Kind);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(PitrFixture.Operator.Name, run.RequestedBy);
        Assert.Equal(RunEnd.DonePhase, run.Phase);
        Assert.NotNull(run.StartedAt);
        var record = await BaseBackupAsync(id);
        Assert.Equal(BaseBackupStatus.Succeeded, record.Status);
        Assert.Equal(run.FinishedAt, record.FinishedAt);
        Assert.NotNull(record.Files);
        Assert.Equal([BaseBackupPhase.Copying, BaseBackupPhase.Verifying, BaseBackupPhase.Storing], phases.Of(id));
        Assert.Contains(await AuditAsync(AuditActions.PitrBaseBackupFinished), a => a.Target!.Contains(id.ToString("N"), StringComparison.Ordinal) && a.Outcome == AuditOutcome.Succeeded);
    }

    [Fact]
    public async Task PitrRestore_IsARunWithItsPhases_AndWhenItsConsoleDies_ItsServerIsStoppedAndTheDirectoryItCreatedRemoved()
    {
        using var phases = new Phases(pitr.App.Service<RunProgressNotifier>(), RunKind.PitrRestore);
        var dir = pitr.NewRestoreDirectory();
        var restore = await pitr.RestoreAsync(new PitrRestoreRequest(pitr.Server, await RestorableTimeAsync(), "UTC", PitrRestoreMode.Verify, dir, null));

        var run = restore.Run!;
        Assert.Equal(RunKind.PitrRestore, run.Kind);
        Assert.Equal("Paused at the target (read only)", run.Phase);
        Assert.Equal(PitrFixture.Operator.Name, run.RequestedBy);
        Assert.True(restore.DataDirectoryCreated);
        var seen = phases.Of(restore.Id);
        Assert.Equal(PitrRestoreExecution.PlanningPhase, seen[0]);
        Assert.Contains(seen, p => p.StartsWith("Unpacking the base backup", StringComparison.Ordinal));
        Assert.Contains(seen, p => p.StartsWith("Replaying WAL on port", StringComparison.Ordinal));
        Assert.Equal("Counting rows of every table", seen[^1]);
        Assert.Contains(await AuditAsync(AuditActions.PitrRestoreFinished), a => a.Target == dir && a.Outcome == AuditOutcome.Succeeded);
        Assert.True(File.Exists(Path.Combine(dir, "postmaster.pid")), "the restored server runs");

        // Its console dies while the server it started runs (pg_ctl daemonizes it): as a run still running under an
        // instance on this host that nobody holds any more.
        var dead = await pitr.App.AddDeadInstanceAsync(ConsoleInstance.Host);
        await using (var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            await db.Set<RunRecord>().Where(r => r.Id == restore.Id).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Running)
                .SetProperty(r => r.Phase, "Counting rows of every table")
                .SetProperty(r => r.FinishedAt, (DateTimeOffset?)null)
                .SetProperty(r => r.OwnerInstanceId, dead)
                .SetProperty(r => r.OwnerHost, ConsoleInstance.Host));
        }

        await pitr.App.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None);
        await WaitForEndAsync(restore.Id);

        var swept = await RunAsync(restore.Id);
        Assert.Equal(RunStatus.Failed, swept.Status);
        Assert.Equal(RunFailureKind.OwnerLost, swept.FailureKind);
        Assert.Contains("stopped before it finished", swept.Error);
        Assert.Contains($"(port {restore.Port}) is stopped", swept.Error);
        Assert.Contains($"{dir}, which it created, was removed", swept.Error);
        Assert.False(Directory.Exists(dir));
        using var tcp = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => tcp.ConnectAsync("127.0.0.1", restore.Port));
    }

    [Fact]
    public async Task AbandonedBaseBackup_IsFailedBySweepWithWhatWasRemoved_NotifiedAsFailed_AndTheNextRequestQueuesAtOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var path = await pitr.HookAsync(receiver, NotificationEventKind.BackupFailed);
        var stores = pitr.App.Service<PitrArchiveStores>();
        var id = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var prefix = PitrKeys.BasePrefix(pitr.Server, id, now);
        var key = prefix + "base.tar" + PitrKeys.Compressed;
        // What it had stored and its scratch folder when its console was killed mid-store.
        var scratch = pitr.App.Service<PitrWorkspace>().ScratchOf(BaseBackupEngine.ScratchPurpose, id);
        Directory.CreateDirectory(Path.Combine(scratch, "tar"));
        var tar = Path.Combine(scratch, "tar", "base.tar");
        await File.WriteAllTextAsync(tar, "a partial base backup");
        await stores.PutLargeAsync(tar, key, 1, CancellationToken.None);
        Assert.True(await stores.Targets[0].ExistsAsync(key, CancellationToken.None));
        var dead = await pitr.App.AddDeadInstanceAsync(ConsoleInstance.Host);
        await using (var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            var run = RunFixtures.Run(RunKind.BaseBackup, pitr.Server, id, dead, BaseBackupPhase.Storing);
            run.OwnerHost = ConsoleInstance.Host;
            db.Add(run);
            db.Add(new BaseBackupRecord { Id = id, TargetId = pitr.Server, Status = BaseBackupStatus.Running, Reason = "killed", StartedAt = now, KeyPrefix = prefix });
            await db.SaveChangesAsync();
        }

        await pitr.App.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None);
        await WaitForEndAsync(id);

        var ended = await RunAsync(id);
        Assert.Equal(RunStatus.Failed, ended.Status);
        Assert.Equal(RunFailureKind.OwnerLost, ended.FailureKind);
        Assert.Contains("stopped before it finished", ended.Error);
        Assert.Contains("What it had stored was removed from the stores.", ended.Error);
        Assert.Contains($"Its scratch folder {scratch} was removed.", ended.Error);
        var record = await BaseBackupAsync(id);
        Assert.Equal(BaseBackupStatus.Failed, record.Status);
        Assert.Equal(ended.Error, record.Error);
        foreach (var store in stores.Targets)
        {
            Assert.False(await store.ExistsAsync(key, CancellationToken.None));
        }

        Assert.False(Directory.Exists(scratch));
        await DeliveryWait.UntilAsync(() => PitrFixture.Titles(receiver, path).Contains("Base backup of pitr failed"), "the failed base backup notice");
        var notice = Assert.Single(receiver.Bodies(path), b => b.GetProperty("title").GetString() == "Base backup of pitr failed");
        Assert.Contains("stopped before it finished", notice.GetProperty("text").GetString());

        // Nothing blocks the next one: it is queued at once, and taken.
        var next = await pitr.App.Service<IBaseBackupRequester>().RequestAsync(pitr.Server, "after a crash", CancellationToken.None);
        Assert.NotEqual(id, next);
        await WaitForEndAsync(next);
        Assert.Equal(BaseBackupStatus.Succeeded, (await BaseBackupAsync(next)).Status);
    }

    [Fact]
    public async Task ARunningBaseBackupBlocksNewRequestsUntilItEnds_AQueuedOneWhoseJobWasLostOnlyForSixHours()
    {
        var requester = pitr.App.Service<IBaseBackupRequester>();
        var running = Guid.NewGuid();
        var lost = Guid.NewGuid();
        await using (var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            // Running on this (living) console, started long ago: no sweep ends it and no age lets a request past it.
            var run = RunFixtures.Run(RunKind.BaseBackup, pitr.Server, running, pitr.App.Service<ConsoleInstance>().Id, BaseBackupPhase.Copying);
            run.CreatedAt = run.StartedAt!.Value.AddHours(-12);
            db.Add(run);
            db.Add(new BaseBackupRecord { Id = running, TargetId = pitr.Server, Status = BaseBackupStatus.Running, Reason = "long", StartedAt = run.CreatedAt, KeyPrefix = "pitr/long/" });
            await db.SaveChangesAsync();
        }

        Assert.Equal(running, await requester.RequestAsync(pitr.Server, "while one runs", CancellationToken.None));
        Assert.True(await pitr.App.Service<RunLifecycle>().EndRunningAsync(running, new RunEnd(RunStatus.Failed, "ended by the test", RunFailureKind.Unexpected)));
        Assert.Equal(BaseBackupStatus.Failed, (await BaseBackupAsync(running)).Status);

        await using (var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            // Queued seven hours ago with no job behind it (the job storage lost it).
            var run = RunFixtures.Run(RunKind.BaseBackup, pitr.Server, lost);
            run.CreatedAt = DateTimeOffset.UtcNow.AddHours(-7);
            db.Add(run);
            db.Add(new BaseBackupRecord { Id = lost, TargetId = pitr.Server, Status = BaseBackupStatus.Queued, Reason = "lost", StartedAt = run.CreatedAt, KeyPrefix = "pitr/lost/" });
            await db.SaveChangesAsync();
        }

        var next = await requester.RequestAsync(pitr.Server, "after a lost job", CancellationToken.None);
        Assert.NotEqual(lost, next);
        var ended = await RunAsync(lost);
        Assert.Equal(RunStatus.Failed, ended.Status);
        Assert.Contains("still queued after 6 hours", ended.Error);
        Assert.Equal(BaseBackupStatus.Failed, (await BaseBackupAsync(lost)).Status);
        await WaitForEndAsync(next);
        Assert.Equal(BaseBackupStatus.Succeeded, (await BaseBackupAsync(next)).Status);
    }

    [Fact]
    public async Task CancellingARunningBaseBackup_StopsPgBasebackup_AndStoresNothing()
    {
        using var phases = new Phases(pitr.App.Service<RunProgressNotifier>(), RunKind.BaseBackup);
        var copying = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        phases.Running += p =>
        {
            if (p.Phase == BaseBackupPhase.Copying)
            {
                copying.TrySetResult(p.RunId);
            }
        };

        var id = await Service.TakeBaseBackupAsync(PitrFixture.Operator, pitr.Server, CancellationToken.None);
        Assert.Equal(id, await copying.Task.WaitAsync(PitrFixture.Deadline));
        var result = await Service.CancelBaseBackupAsync(PitrFixture.Operator, id, CancellationToken.None);
        await WaitForEndAsync(id);

        Assert.Equal(RunCancelOutcome.Stopping, result.Outcome);
        var run = await RunAsync(id);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Contains($"Cancelled by {PitrFixture.Operator.Name}", run.Error);
        Assert.Contains("nothing was stored", run.Error);
        var record = await BaseBackupAsync(id);
        Assert.Equal(BaseBackupStatus.Cancelled, record.Status);
        foreach (var store in pitr.App.Service<PitrArchiveStores>().Targets)
        {
            foreach (var name in BaseBackupEngine.StoredFiles)
            {
                Assert.False(await store.ExistsAsync(record.KeyPrefix + name + PitrKeys.Compressed, CancellationToken.None));
            }
        }

        // The scratch folder goes right after the run's end is recorded.
        var scratch = pitr.App.Service<PitrWorkspace>().ScratchOf(BaseBackupEngine.ScratchPurpose, id);
        await PitrFixture.WaitForAsync("the cancelled base backup's scratch folder to be removed", () => Task.FromResult(!Directory.Exists(scratch)));
        Assert.Contains(await AuditAsync(AuditActions.PitrBaseBackupCancelled), a => a.Actor == PitrFixture.Operator.Name);
    }

    [Fact]
    public async Task CancellingARunningPitrRestore_StopsItsServer_RemovesItsDirectory_AndTellsTheRestoreChannel()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var hook = await pitr.HookAsync(receiver, NotificationEventKind.RestoreFinished);
        using var phases = new Phases(pitr.App.Service<RunProgressNotifier>(), RunKind.PitrRestore);
        var replaying = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        phases.Running += p =>
        {
            if (p.Phase?.StartsWith("Replaying WAL", StringComparison.Ordinal) == true)
            {
                replaying.TrySetResult(p.RunId);
            }
        };
        var dir = pitr.NewRestoreDirectory();
        var time = await RestorableTimeAsync();

        var id = await Service.RequestRestoreAsync(PitrFixture.Operator, new PitrRestoreRequest(pitr.Server, time, "UTC", PitrRestoreMode.Verify, dir, null), CancellationToken.None);
        Assert.Equal(id, await replaying.Task.WaitAsync(PitrFixture.Deadline));
        var result = await Service.CancelRestoreAsync(PitrFixture.Operator, id, CancellationToken.None);
        await WaitForEndAsync(id);

        Assert.Equal(RunCancelOutcome.Stopping, result.Outcome);
        var restore = (await Service.GetRestoreAsync(id, CancellationToken.None))!;
        Assert.Equal(RunStatus.Cancelled, restore.Run!.Status);
        Assert.Contains($"Cancelled by {PitrFixture.Operator.Name}", restore.Run.Error);
        Assert.False(Directory.Exists(dir));
        using var tcp = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => tcp.ConnectAsync("127.0.0.1", restore.Port));
        Assert.Contains(await AuditAsync(AuditActions.PitrRestoreCancelled), a => a.Target == dir);
        await DeliveryWait.UntilAsync(() => PitrFixture.Titles(receiver, hook).Any(t => t.StartsWith("Point-in-time restore cancelled", StringComparison.Ordinal)), "the restore notice");
        var notice = Assert.Single(receiver.Bodies(hook));
        Assert.EndsWith($"→ {dir}", notice.GetProperty("title").GetString());
        Assert.Contains($"Cancelled by {PitrFixture.Operator.Name}", notice.GetProperty("text").GetString());
    }
}
