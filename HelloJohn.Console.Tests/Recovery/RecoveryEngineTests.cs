using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestActors;
using static HelloJohn.Console.Tests.Recovery.RecoveryTestExtensions;

namespace HelloJohn.Console.Tests.Recovery;

[Trait("Capability", "Recovery")]
[Collection(PostgresCollection.Name)]
public sealed class RecoveryEngineTests(PostgresClusterFixture postgres) : RecoveryAppTest(postgres)
{
    private RecoveryService Recovery => App.Service<RecoveryService>();

    private async Task<Guid> StartAsync(RecoveryScenario scenario, Actor? actor = null) =>
        await Recovery.StartAsync(actor ?? Operator, new RecoveryStartRequest(scenario, await App.DefaultTargetAsync()), CancellationToken.None);

    [Fact]
    public async Task Start_SameScenarioTwiceForATarget_IsRefusedWithTheRunToResume()
    {
        var first = await StartAsync(RecoveryScenario.DatabaseHostFailure);

        var refused = await Assert.ThrowsAsync<RecoveryRefusedException>(() => StartAsync(RecoveryScenario.DatabaseHostFailure, Admin));

        Assert.Equal(first, refused.ExistingRunId);
        Assert.Contains($"/recovery/{first}", refused.Message);
        Assert.Equal(first, await Recovery.FindActiveAsync(await App.DefaultTargetAsync(), RecoveryScenario.DatabaseHostFailure, CancellationToken.None));
        // Another scenario may run beside it, and once abandoned the same scenario can start again.
        await StartAsync(RecoveryScenario.SigningKeyLost);
        await Recovery.AbandonAsync(Operator, first, "started by mistake", CancellationToken.None);
        var second = await StartAsync(RecoveryScenario.DatabaseHostFailure);
        Assert.NotEqual(first, second);
        var abandoned = (await App.RunAsync(first)).Run;
        Assert.Equal(RecoveryRunStatus.Abandoned, abandoned.Status);
        Assert.Equal("Abandoned by operator@example.test: started by mistake", abandoned.EndReason);
        Assert.Null(abandoned.Rto);
    }

    [Fact]
    public async Task Start_ByAViewer_IsDeniedAuditedAndNothingIsCreated()
    {
        await Assert.ThrowsAsync<PermissionDeniedException>(() => StartAsync(RecoveryScenario.DatabaseHostFailure, Viewer));

        Assert.Empty((await Recovery.ListAsync(new RecoveryRunQuery(), CancellationToken.None)).Items);
        var denied = Assert.Single(await App.AuditAsync("recovery."));
        Assert.Equal((AuditActions.RecoveryStarted, AuditOutcome.Denied, Viewer.Name), (denied.Action, denied.Outcome, denied.Actor));
    }

    [Fact]
    public async Task Start_WithAnIncidentInTheFuture_IsRefused()
    {
        var targetId = await App.DefaultTargetAsync();
        var error = await Assert.ThrowsAsync<RecoveryInputException>(() => Recovery.StartAsync(Operator,
            new RecoveryStartRequest(RecoveryScenario.DatabaseHostFailure, targetId, DateTimeOffset.UtcNow.AddHours(3)), CancellationToken.None));

        Assert.Contains("is in the future", error.Message);
        Assert.Empty((await Recovery.ListAsync(new RecoveryRunQuery(), CancellationToken.None)).Items);
    }

    [Fact]
    public async Task Steps_OutOfOrder_AreRefusedAndNothingChanges()
    {
        var runId = await StartAsync(RecoveryScenario.DatabaseHostFailure);

        var markLater = await Assert.ThrowsAsync<RecoveryRefusedException>(() => Recovery.MarkDoneAsync(Operator, runId, "restart", CancellationToken.None));
        var runLater = await Assert.ThrowsAsync<RecoveryRefusedException>(() => Recovery.AdvanceAsync(Operator, runId, "health", null, CancellationToken.None));

        Assert.Contains("Step 6 \"Restart HelloJohn\" opens once step 1 \"Connect the new PostgreSQL server\" has passed", markLater.Message);
        Assert.Contains("Step 7", runLater.Message);
        var view = await App.RunAsync(runId);
        Assert.All(view.Steps, s => Assert.Equal(RecoveryStepStatus.Pending, s.Status));
        Assert.Equal("new-server", view.Current!.Key);
        Assert.Equal(0, HelloJohnFake.HealthRequests);
    }

    [Fact]
    public async Task FailedCheck_KeepsTheNextStepClosedUntilItPasses()
    {
        var runId = await StartAsync(RecoveryScenario.PointInTime);

        var future = DateTimeOffset.UtcNow.AddDays(2).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        var failed = await Recovery.AdvanceAsync(Operator, runId, "choose-time", Inputs(("time", future), ("zone", "UTC")), CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Failed, failed.Status);
        Assert.Contains("is in the future", failed.Message);
        await Assert.ThrowsAsync<RecoveryRefusedException>(() => Recovery.MarkDoneAsync(Operator, runId, "restore-to-time", CancellationToken.None));

        var past = await Recovery.AdvanceAsync(Operator, runId, "choose-time", Inputs(("time", "2024-01-20 11:30:00"), ("zone", "Europe/Paris")), CancellationToken.None);
        Assert.Equal(RecoveryStepStatus.Passed, past.Status);
        await Recovery.MarkDoneAsync(Operator, runId, "restore-to-time", CancellationToken.None);
        var view = await App.RunAsync(runId);
        Assert.Equal("recovered-database", view.Current!.Key);
        Assert.Equal(new DateTimeOffset(2024, 1, 20, 10, 30, 0, TimeSpan.Zero), view.PointInTimeTarget);
        // The provider's commands carry the time in UTC, the zone named.
        Assert.Contains(view.Steps.Single(s => s.Key == "restore-to-time").Instructions, i => i.Text.Contains("2024-01-20T10:30:00Z, given as Europe/Paris", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MarkDone_OnAStepWithACheck_IsRefused_AndRunningAManualStepIsRefused()
    {
        var runId = await StartAsync(RecoveryScenario.PointInTime);

        var check = await Assert.ThrowsAsync<RecoveryRefusedException>(() => Recovery.MarkDoneAsync(Operator, runId, "choose-time", CancellationToken.None));
        Assert.Contains("has a check", check.Message);
        await Recovery.AdvanceAsync(Operator, runId, "choose-time", Inputs(("time", "2024-01-20 10:30"), ("zone", "UTC")), CancellationToken.None);
        var manual = await Assert.ThrowsAsync<RecoveryRefusedException>(() => Recovery.AdvanceAsync(Operator, runId, "restore-to-time", null, CancellationToken.None));
        Assert.Contains("mark it done", manual.Message);
    }

    [Fact]
    public async Task Advance_SameStepByTwoEngineersAtOnce_RunsItOnce()
    {
        var newHost = await Postgres.CreateDatabaseAsync("race");
        var runId = await StartAsync(RecoveryScenario.DatabaseHostFailure);
        var inputs = Inputs(("connection", newHost.ConnectionString));

        var attempts = await Task.WhenAll(
            Capture(() => Recovery.AdvanceAsync(Operator, runId, "new-server", inputs, CancellationToken.None)),
            Capture(() => Recovery.AdvanceAsync(Admin, runId, "new-server", inputs, CancellationToken.None)));

        Assert.Single(attempts, a => a.Result?.Status == RecoveryStepStatus.Passed);
        Assert.Single(attempts, a => a.Error is RecoveryRefusedException);
        Assert.Equal(1, (await App.StepAsync(runId, "new-server")).Attempts);
    }

    private static async Task<(RecoveryStepResult? Result, Exception? Error)> Capture(Func<Task<RecoveryStepResult>> action)
    {
        try
        {
            return (await action(), null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    [Fact]
    public async Task Advance_AnAdminOnlyStepByAnOperator_IsDeniedAndAudited()
    {
        var runId = await StartAsync(RecoveryScenario.SigningKeyLost);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => Recovery.AdvanceAsync(Operator, runId, "generate-key", null, CancellationToken.None));

        Assert.Equal(RecoveryStepStatus.Pending, (await App.StepAsync(runId, "generate-key")).Status);
        Assert.Contains(await App.AuditAsync("recovery.step"), e => e.Outcome == AuditOutcome.Denied && e.Detail!.StartsWith("needs ManageSecrets: holds Operator", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Abandon_ThenAdvance_IsRefused()
    {
        var runId = await StartAsync(RecoveryScenario.DatabaseHostFailure);
        await Recovery.AbandonAsync(Operator, runId, null, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<RecoveryRefusedException>(() =>
            Recovery.AdvanceAsync(Operator, runId, "new-server", Inputs(("connection", "postgres://u:p@127.0.0.1:1/x")), CancellationToken.None));

        Assert.Contains("is abandoned", refused.Message);
        Assert.Null((await App.RunAsync(runId)).Current);
    }
}
