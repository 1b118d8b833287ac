using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Tests.Infrastructure;
using Npgsql;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestActors;

namespace HelloJohn.Console.Tests.Recovery;

[Trait("Capability", "Recovery")]
[Collection(PostgresCollection.Name)]
public sealed class DrillTests(PostgresClusterFixture postgres) : RecoveryAppTest(postgres)
{
    private async Task<IReadOnlyList<string>> DrillDatabasesAsync()
    {
        await using var conn = new NpgsqlConnection(Postgres.Cluster.ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 'hellojohn\\_drill\\_%'", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    [Fact]
    public async Task Drill_OnDemand_RestoresIntoAScratchDatabaseMeasuresRtoAndDropsIt()
    {
        var backupId = await App.BackUpAsync();
        var recovery = App.Service<RecoveryService>();
        var targetId = await App.DefaultTargetAsync();

        var runId = await recovery.StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.Drill, targetId), CancellationToken.None);
        var run = await App.WaitForRunAsync(runId, r => r.Status != RecoveryRunStatus.Active);

        var view = await App.RunAsync(runId);
        Assert.True(run.Status == RecoveryRunStatus.Completed, string.Join('\n', view.Log.Select(l => l.Text)));
        Assert.StartsWith("hellojohn_drill_", view.ScratchDatabase);
        Assert.Empty(await DrillDatabasesAsync());
        Assert.Contains(view.Log, l => l.StepKey == "verify" && l.Text.StartsWith("Check passed: All 7 tables match", StringComparison.Ordinal));
        var verified = view.Steps.Single(s => s.Key == "verify").CompletedAt!.Value;
        Assert.Equal(verified - run.StartedAt, run.Rto);
        Assert.True(view.Steps.Single(s => s.Key == "drop-scratch").CompletedAt >= verified);

        var last = await recovery.GetLastDrillAsync(targetId, CancellationToken.None);
        Assert.NotNull(last);
        Assert.Equal((runId, RecoveryRunStatus.Completed, run.Rto, run.Rpo), (last.RunId, last.Status, last.Rto, last.Rpo));
        var backup = await App.Service<HelloJohn.Console.Core.Backups.BackupService>().GetAsync(backupId, CancellationToken.None);
        Assert.Equal(backup!.Backup.FileName, last.BackupFileName);
        Assert.Equal(run.StartedAt - backup.Backup.StartedAt, run.Rpo);
    }

    [Fact]
    public async Task DrillSchedule_RunNow_RunsADrillThroughItsRecurringJobAndTheDashboardSeesIt()
    {
        await App.BackUpAsync();
        var targetId = await App.DefaultTargetAsync();
        var schedules = App.Service<ScheduleService>();
        var drill = (await schedules.ListAsync(targetId, CancellationToken.None)).Single(s => s.Kind == ScheduleKind.Drill);
        Assert.Equal($"drill:{targetId}", drill.Id);
        Assert.False(drill.Paused);
        Assert.Equal(5, drill.Next.Count);

        await schedules.RunNowAsync(Admin, drill.Id, CancellationToken.None);

        var recovery = App.Service<RecoveryService>();
        LastDrill? last = null;
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            last = await recovery.GetLastDrillAsync(targetId, CancellationToken.None);
            if (last is { Status: not RecoveryRunStatus.Active })
            {
                break;
            }
        }

        Assert.NotNull(last);
        Assert.True(last.Status == RecoveryRunStatus.Completed, last.EndReason);
        Assert.NotNull(last.Rto);
        Assert.Equal("system", (await App.RunAsync(last.RunId)).Run.StartedBy);
        Assert.Empty(await DrillDatabasesAsync());
    }

    [Fact]
    public async Task Drill_WithNoBackupToRestore_FailsSaysWhyAndLeavesNoScratchDatabase()
    {
        var recovery = App.Service<RecoveryService>();
        var targetId = await App.DefaultTargetAsync();

        await recovery.RunScheduledDrillAsync(targetId, CancellationToken.None);

        var last = await recovery.GetLastDrillAsync(targetId, CancellationToken.None);
        Assert.NotNull(last);
        Assert.Equal(RecoveryRunStatus.Failed, last.Status);
        Assert.Contains("has no finished backup to restore", last.EndReason);
        Assert.Null(last.Rto);
        Assert.Empty(await DrillDatabasesAsync());
        Assert.Equal("system", (await App.RunAsync(last.RunId)).Run.StartedBy);
    }
}
