using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Tests.Infrastructure;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestActors;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestExtensions;

namespace HelloJohn.Console.Tests.Recovery;

/// <summary>Runs live in the console database, not in a process: a restarted console, or a second console instance
/// on the same database, sees and continues the same run.</summary>
[Trait("Capability", "Recovery")]
[Collection(PostgresCollection.Name)]
public sealed class RecoveryResumeTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private FakeHelloJohn _helloJohn = default!;

    public async Task InitializeAsync() => _helloJohn = await FakeHelloJohn.StartAsync();

    public async Task DisposeAsync() => await _helloJohn.DisposeAsync();

    private static async Task<Guid> PassUpToHealthAsync(RecoveryAppFactory app, PostgresClusterFixture postgres)
    {
        var recovery = app.Service<RecoveryService>();
        await app.BackUpAsync();
        var newHost = await postgres.CreateDatabaseAsync("resume");
        var runId = await recovery.StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.DatabaseHostFailure, await app.DefaultTargetAsync()), CancellationToken.None);
        await recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", newHost.ConnectionString)), CancellationToken.None);
        var chosen = (await recovery.GetBackupCandidatesAsync(runId, CancellationToken.None)).Single(c => c.IsDefault);
        await recovery.AdvanceAsync(Operator, runId, "choose-backup", Inputs(("backup", chosen.Id.ToString())), CancellationToken.None);
        await recovery.AdvanceAsync(Operator, runId, "restore", null, CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, (await app.WaitForStepAsync(runId, "restore")).Status);
        await recovery.AdvanceAsync(Operator, runId, "verify", null, CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, (await app.WaitForStepAsync(runId, "verify")).Status);
        await recovery.MarkDoneAsync(Operator, runId, "deploy-url", CancellationToken.None);
        await recovery.MarkDoneAsync(Operator, runId, "restart", CancellationToken.None);
        return runId;
    }

    [Fact]
    public async Task Resume_AfterTheConsoleRestartsWhileACheckPolls_ContinuesTheSameRunToTheEnd()
    {
        Guid runId;
        DateTimeOffset startedAt;
        var first = new RecoveryAppFactory(postgres, _helloJohn.BaseUrl);
        await first.InitializeAsync();
        RecoveryAppFactory? second = null;
        try
        {
            runId = await PassUpToHealthAsync(first, postgres);
            startedAt = (await first.RunAsync(runId)).Run.StartedAt;
            await first.Service<RecoveryService>().AdvanceAsync(Operator, runId, "health", null, CancellationToken.None);
            await first.WaitForStepAsync(runId, "health", s => s.Status == RecoveryStepStatus.Running);
            while (_helloJohn.HealthRequests < 2)
            {
                await Task.Delay(50);
            }

            // The console stops mid-check (its Hangfire server cancels the job); a new console opens the same database.
            await first.DisposeAsync();
            second = new RecoveryAppFactory(postgres, _helloJohn.BaseUrl, sharing: first);
            await second.InitializeAsync();

            var resumed = await second.RunAsync(runId);
            Assert.Equal(RecoveryRunStatus.Active, resumed.Run.Status);
            Assert.Equal(6, resumed.Run.StepsPassed);
            var health = resumed.Steps.Single(s => s.Key == "health");
            Assert.Equal(RecoveryStepStatus.Failed, health.Status);
            Assert.Contains("Run it again", health.Message);
            Assert.True(health.IsCurrent);
            Assert.Contains(resumed.Log, l => l.StepKey == "verify" && l.Text.StartsWith("Check passed", StringComparison.Ordinal));

            _helloJohn.Healthy = true;
            await second.Service<RecoveryService>().AdvanceAsync(Admin, runId, "health", null, CancellationToken.None);
            Assert.Equal(RecoveryStepStatus.Passed, (await second.WaitForStepAsync(runId, "health")).Status);
            var done = (await second.RunAsync(runId)).Run;
            Assert.Equal(RecoveryRunStatus.Completed, done.Status);
            Assert.Equal(startedAt, done.StartedAt);
            Assert.NotNull(done.Rto);
            Assert.NotNull(done.Rpo);
            Assert.Equal(IncidentTimeSource.RunStart, done.IncidentSource);
        }
        finally
        {
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TwoConsoles_OnTheSameRun_SeeTheSameStateAndShareTheOneActiveRun()
    {
        var a = new RecoveryAppFactory(postgres, _helloJohn.BaseUrl);
        await a.InitializeAsync();
        var b = new RecoveryAppFactory(postgres, _helloJohn.BaseUrl, sharing: a);
        try
        {
            await b.InitializeAsync();
            await TwoConsolesAsync(a, b);
        }
        finally
        {
            await b.DisposeAsync();
            await a.DisposeAsync();
        }
    }

    private async Task TwoConsolesAsync(RecoveryAppFactory a, RecoveryAppFactory b)
    {
        var newHost = await postgres.CreateDatabaseAsync("twoclients");
        await a.BackUpAsync();

        var runId = await a.Service<RecoveryService>().StartAsync(Operator, new RecoveryStartRequest(RecoveryScenario.DatabaseHostFailure, await a.DefaultTargetAsync()), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<RecoveryRefusedException>(async () =>
            await b.Service<RecoveryService>().StartAsync(Admin, new RecoveryStartRequest(RecoveryScenario.DatabaseHostFailure, await b.DefaultTargetAsync()), CancellationToken.None));
        Assert.Equal(runId, refused.ExistingRunId);

        await a.Service<RecoveryService>().AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", newHost.ConnectionString)), CancellationToken.None);
        var seenByB = await b.RunAsync(runId);
        Assert.Equal(RecoveryStepStatus.Passed, seenByB.Steps[0].Status);
        Assert.Equal("choose-backup", seenByB.Current!.Key);
        Assert.Equal(RecoveryConnectionVault.Masked(newHost), seenByB.MaskedNewDatabaseUrl);

        // The other engineer continues from the second console; the first sees it.
        var chosen = (await b.Service<RecoveryService>().GetBackupCandidatesAsync(runId, CancellationToken.None)).Single(c => c.IsDefault);
        await b.Service<RecoveryService>().AdvanceAsync(Admin, runId, "choose-backup", Inputs(("backup", chosen.Id.ToString())), CancellationToken.None);
        var seenByA = await a.RunAsync(runId);
        Assert.Equal(RecoveryStepStatus.Passed, seenByA.Steps[1].Status);
        Assert.Equal(Admin.Name, seenByA.Steps[1].CompletedBy);
        Assert.Equal("restore", seenByA.Current!.Key);
        Assert.Equal(seenByB.Run.Id, seenByA.Run.Id);
        Assert.Equal(seenByA.Steps.Select(s => (s.Key, s.Status)), (await b.RunAsync(runId)).Steps.Select(s => (s.Key, s.Status)));
    }
}
