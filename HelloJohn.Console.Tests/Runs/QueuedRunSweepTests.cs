using Hangfire;
using Hangfire.States;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Runs;

/// <summary>A queued run whose job ended without starting it (failed before its claim, or deleted) is ended by the sweep
/// with what became of its job, instead of saying "Queued" for ever; a run whose job is still waiting, ended only a
/// moment ago, or is unknown to the job store, is left alone.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class QueuedRunSweepTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres);

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Sweep_QueuedRunsWhoseJobFailedOrWasDeleted_AreFailedWithTheReason_OthersStayQueued()
    {
        var targetId = (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
        var jobs = _app.Service<IBackgroundJobClient>();
        var old = DateTimeOffset.UtcNow.AddMinutes(-5);
        string JobIn(Guid id, IState state) => jobs.Create(Hangfire.Common.Job.FromExpression<BackupJob>(j => j.RunAsync(id, CancellationToken.None)), state);

        var failed = Guid.NewGuid();
        var deleted = Guid.NewGuid();
        var unknown = Guid.NewGuid();
        var waiting = Guid.NewGuid();
        var justFailed = Guid.NewGuid();
        var runs = new (Guid Id, DateTimeOffset CreatedAt, string JobId)[]
        {
            (failed, old, JobIn(failed, new FailedState(new InvalidOperationException("the connection to the console database was lost")))),
            (deleted, old, JobIn(deleted, new DeletedState())),
            (unknown, old, "987654321"),
            (waiting, old, JobIn(waiting, new ScheduledState(TimeSpan.FromHours(1)))),
            (justFailed, DateTimeOffset.UtcNow, JobIn(justFailed, new FailedState(new InvalidOperationException("a moment ago")))),
        };
        await using (var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            foreach (var (id, createdAt, jobId) in runs)
            {
                var run = RunFixtures.Run(RunKind.Backup, targetId, id);
                run.CreatedAt = createdAt;
                run.JobId = jobId;
                db.Add(run);
                db.Backups.Add(new BackupRecord
                {
                    Id = id, TargetId = targetId, FileName = BackupNaming.FileNameFor(createdAt.AddSeconds(runs.Length)) + id.ToString("N")[..6],
                    Status = BackupStatus.Queued, CreatedAt = createdAt,
                });
            }

            await db.SaveChangesAsync();
        }

        await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None);

        await using var check = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var after = await check.Set<RunRecord>().AsNoTracking().Where(r => runs.Select(x => x.Id).Contains(r.Id)).ToDictionaryAsync(r => r.Id);
        Assert.Equal(RunStatus.Failed, after[failed].Status);
        Assert.Equal("Its job failed (the connection to the console database was lost) before it could start the run. Nothing was done; request it again.", after[failed].Error);
        Assert.Equal(RunStatus.Failed, after[deleted].Status);
        Assert.StartsWith("Its job ended (deleted) before it could start the run.", after[deleted].Error);
        Assert.Equal(RunStatus.Queued, after[unknown].Status);
        Assert.Equal(RunStatus.Queued, after[waiting].Status);
        Assert.Equal(RunStatus.Queued, after[justFailed].Status);
        Assert.Equal(BackupStatus.Failed, (await check.Backups.AsNoTracking().SingleAsync(b => b.Id == failed)).Status);
    }

    [Fact]
    public async Task Sweep_QueuedRunWhoseJobAWorkerTookButNeverStarted_IsQueuedAgainAsANewJob()
    {
        var targetId = (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
        var jobs = _app.Service<IBackgroundJobClient>();
        // A queue no worker of this console reads, so only the test moves its entries.
        const string Queue = "stuck_probe";
        var stuck = Guid.NewGuid();
        var fresh = Guid.NewGuid();
        var stuckJob = jobs.Create(Hangfire.Common.Job.FromExpression<BackupJob>(j => j.RunAsync(stuck, CancellationToken.None)), new EnqueuedState(Queue));
        var freshJob = jobs.Create(Hangfire.Common.Job.FromExpression<BackupJob>(j => j.RunAsync(fresh, CancellationToken.None)), new EnqueuedState(Queue));
        var old = DateTimeOffset.UtcNow.AddMinutes(-5);
        await using (var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            foreach (var (id, jobId) in new[] { (stuck, stuckJob), (fresh, freshJob) })
            {
                var run = RunFixtures.Run(RunKind.Backup, targetId, id);
                run.CreatedAt = old;
                run.JobId = jobId;
                db.Add(run);
                db.Backups.Add(new BackupRecord
                {
                    Id = id, TargetId = targetId, FileName = BackupNaming.FileNameFor(old) + id.ToString("N")[..6], Status = BackupStatus.Queued, CreatedAt = old,
                });
            }

            await db.SaveChangesAsync();
            // One was taken by a worker five minutes ago and never started; the other a moment ago.
            await db.Database.ExecuteSqlAsync($"UPDATE hangfire.jobqueue SET fetchedat = now() - interval '5 minutes' WHERE jobid = {long.Parse(stuckJob, System.Globalization.CultureInfo.InvariantCulture)}");
            await db.Database.ExecuteSqlAsync($"UPDATE hangfire.jobqueue SET fetchedat = now() WHERE jobid = {long.Parse(freshJob, System.Globalization.CultureInfo.InvariantCulture)}");
        }

        await _app.Service<RunSweeper>().SweepOnceAsync(CancellationToken.None);

        await using var check = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var stuckRun = await check.Set<RunRecord>().AsNoTracking().SingleAsync(r => r.Id == stuck);
        var freshRun = await check.Set<RunRecord>().AsNoTracking().SingleAsync(r => r.Id == fresh);
        Assert.Equal(RunStatus.Queued, stuckRun.Status);
        Assert.NotEqual(stuckJob, stuckRun.JobId);
        using var connection = _app.Service<JobStorage>().GetConnection();
        Assert.Equal(EnqueuedState.StateName, connection.GetStateData(stuckRun.JobId!)!.Name);
        Assert.Equal([stuck], connection.GetJobData(stuckRun.JobId!)!.Job.Args.OfType<Guid>());
        Assert.Equal(freshJob, freshRun.JobId);
    }
}
