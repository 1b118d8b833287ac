using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>The servers restores leave behind: listed with their live state, stopped, started again and removed on real
/// restored clusters, and every bad request refused with nothing done and the refusal in the audit trail.</summary>
[Trait("Capability", "Pitr")]
public sealed class RestoredServersTests(PitrFixture pitr) : IClassFixture<PitrFixture>
{
    private RestoredServers Servers => pitr.App.Service<RestoredServers>();

    private static string Text(DateTimeOffset utc) => utc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Commits a row, then restores to a whole second after it (and before a second row) in <paramref name="mode"/>.</summary>
    private async Task<(PitrRestoreRecord Restore, string Table)> RestoreAsync(PitrRestoreMode mode)
    {
        var table = $"restored_probe_{Guid.NewGuid():N}"[..24];
        await pitr.QueryAsync<int>($"CREATE TABLE {table} (id int PRIMARY KEY); INSERT INTO {table} VALUES (1); SELECT 1");
        var t1 = await pitr.ServerNowAsync();
        var target = new DateTimeOffset(t1.UtcDateTime.Ticks - (t1.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
        await PitrFixture.WaitForAsync("the server clock to pass the target", async () => await pitr.ServerNowAsync() > target.AddMilliseconds(300));
        await pitr.QueryAsync<int>($"INSERT INTO {table} VALUES (2); SELECT 1");
        await pitr.WaitForStreamedAsync(await pitr.ServerNowAsync());
        var restore = await pitr.RestoreAsync(new PitrRestoreRequest(pitr.Server, Text(target), "UTC", mode, pitr.NewRestoreDirectory(), null));
        return (restore, table);
    }

    private async Task<RestoredServerView> ViewAsync(Guid id) => Assert.Single(await Servers.ListAsync(pitr.Server, CancellationToken.None), v => v.Id == id);

    private async Task<AuditEvent> LastAuditAsync(string action)
    {
        await using var db = await pitr.App.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.AuditEvents.AsNoTracking().Where(a => a.Action == action).OrderByDescending(a => a.Id).FirstAsync();
    }

    private async Task<InvalidOperationException> RefusedAsync(string action, Func<Task> call, string says)
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(call);
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was", e.Message, StringComparison.Ordinal);
        var audit = await LastAuditAsync(action);
        Assert.Equal(AuditOutcome.Failed, audit.Outcome);
        Assert.Equal(e.Message, audit.Detail);
        return e;
    }

    [Fact]
    public async Task VerificationRestore_IsListedLive_StopsStartsAgainAndIsRemovedByAnAdmin()
    {
        var (restore, table) = await RestoreAsync(PitrRestoreMode.Verify);
        var id = restore.Id;

        var listed = await ViewAsync(id);
        Assert.Equal(RestoredServerState.Running, listed.Live.State);
        Assert.True(listed.Live.AcceptsConnections, listed.Live.Detail);
        Assert.True(listed.Live.SizeBytes > 1_000_000, $"size {listed.Live.SizeBytes}");
        Assert.Equal((restore.DataDirectory, restore.Port, PitrRestoreMode.Verify), (listed.DataDirectory, listed.Port, listed.Mode));
        Assert.Equal(PitrFixture.Operator.Name, listed.Restore.RequestedBy);
        Assert.Null(listed.UsedBy);
        Assert.True(listed.CanStop && listed.CanRemove && !listed.CanStart);

        // Stop (an Operator may): pg_ctl says it no longer runs, nothing accepts connections, the directory stays.
        var stopped = await Servers.StopAsync(PitrFixture.Operator, id, CancellationToken.None);
        Assert.Contains("stopped", stopped, StringComparison.Ordinal);
        var after = await ViewAsync(id);
        Assert.Equal(RestoredServerState.Stopped, after.Live.State);
        Assert.False(after.Live.AcceptsConnections);
        Assert.True(RestoredServerInspector.IsIntact(restore.DataDirectory));
        Assert.Equal(AuditOutcome.Succeeded, (await LastAuditAsync(AuditActions.PitrRestoredServerStopped)).Outcome);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => pitr.CountOnRestoredAsync(restore, table));
        await RefusedAsync(AuditActions.PitrRestoredServerStopped, () => Servers.StopAsync(PitrFixture.Operator, id, CancellationToken.None), "is not running");

        // A new restore may not take the port of a stopped one, which starts again there.
        var clash = await Assert.ThrowsAsync<PitrInputException>(() => pitr.App.Service<PitrService>().RequestRestoreAsync(PitrFixture.Operator,
            new PitrRestoreRequest(pitr.Server, Text(restore.TargetTime), "UTC", PitrRestoreMode.Verify, pitr.NewRestoreDirectory(), restore.Port), CancellationToken.None));
        Assert.Contains($"belongs to the restored server in {restore.DataDirectory}", clash.Message, StringComparison.Ordinal);

        // Its port taken meanwhile: start is refused, and nothing starts.
        using (var squatter = new TcpListener(IPAddress.Loopback, restore.Port))
        {
            squatter.Start();
            await RefusedAsync(AuditActions.PitrRestoredServerStarted, () => Servers.StartAsync(PitrFixture.Operator, id, CancellationToken.None), "is now taken");
            Assert.Equal(RestoredServerState.Stopped, (await ViewAsync(id)).Live.State);
        }

        // Started again on the same port: it replays to the same target and pauses there.
        await Servers.StartAsync(PitrFixture.Operator, id, CancellationToken.None);
        var started = await ViewAsync(id);
        Assert.Equal(RestoredServerState.Running, started.Live.State);
        Assert.True(started.Live.AcceptsConnections, started.Live.Detail);
        Assert.Equal(1, await pitr.CountOnRestoredAsync(restore, table));
        Assert.Equal(AuditOutcome.Succeeded, (await LastAuditAsync(AuditActions.PitrRestoredServerStarted)).Outcome);
        await RefusedAsync(AuditActions.PitrRestoredServerStarted, () => Servers.StartAsync(PitrFixture.Operator, id, CancellationToken.None), "already running");

        // Remove: an Operator is refused, an Admin must type the directory's name or the port.
        var denied = await Assert.ThrowsAsync<PermissionDeniedException>(() => Servers.RemoveAsync(PitrFixture.Operator, id, listed.DirectoryName, CancellationToken.None));
        Assert.Equal(ConsolePermission.RemoveRestoredServer, denied.Permission);
        Assert.Equal(AuditOutcome.Denied, (await LastAuditAsync(AuditActions.PitrRestoredServerRemoved)).Outcome);
        foreach (var wrong in new[] { null, "", "restored", listed.DirectoryName[..^1], restore.DataDirectory, (restore.Port + 1).ToString(CultureInfo.InvariantCulture) })
        {
            await RefusedAsync(AuditActions.PitrRestoredServerRemoved, () => Servers.RemoveAsync(PitrFixture.Admin, id, wrong, CancellationToken.None), "exactly to confirm");
        }

        Assert.Equal(RestoredServerState.Running, (await ViewAsync(id)).Live.State);
        Assert.True(RestoredServerInspector.IsIntact(restore.DataDirectory));

        var removed = await Servers.RemoveAsync(PitrFixture.Admin, id, restore.Port.ToString(CultureInfo.InvariantCulture), CancellationToken.None);
        Assert.Contains("stopped and removed", removed, StringComparison.Ordinal);
        Assert.False(Directory.Exists(restore.DataDirectory));
        Assert.False(RestoredServerInspector.PortIsTaken(restore.Port));
        var gone = await ViewAsync(id);
        Assert.Equal(RestoredServerState.Removed, gone.Live.State);
        Assert.Equal(PitrFixture.Admin.Name, gone.RemovedBy);
        Assert.NotNull(gone.RemovedAt);
        Assert.False(gone.CanStop || gone.CanStart || gone.CanRemove);
        var audit = await LastAuditAsync(AuditActions.PitrRestoredServerRemoved);
        Assert.Equal((AuditOutcome.Succeeded, PitrFixture.Admin.Name), (audit.Outcome, audit.Actor));
        Assert.Contains(restore.DataDirectory, audit.Target, StringComparison.Ordinal);
        Assert.Contains("bytes freed", audit.Detail, StringComparison.Ordinal);

        // A removed server is refused everything, with when and by whom.
        await RefusedAsync(AuditActions.PitrRestoredServerStarted, () => Servers.StartAsync(PitrFixture.Admin, id, CancellationToken.None), "was removed by admin@example.test");
        await RefusedAsync(AuditActions.PitrRestoredServerRemoved, () => Servers.RemoveAsync(PitrFixture.Admin, id, gone.DirectoryName, CancellationToken.None), "was removed by");
    }

    [Fact]
    public async Task ServerATargetPointsAt_IsNeitherStoppedNorRemoved_UntilTheTargetGoes()
    {
        var (restore, table) = await RestoreAsync(PitrRestoreMode.Disaster);
        var view = await ViewAsync(restore.Id);
        Assert.Equal(RestoredServerState.Running, view.Live.State);

        // HelloJohn moved to the promoted copy: a target now points at localhost on its port.
        var source = await pitr.SourceAsync();
        var pointed = new NpgsqlConnectionStringBuilder(source.ConnectionString) { Host = "localhost", Port = restore.Port };
        var name = $"promoted-{Guid.NewGuid():N}"[..16];
        var target = await pitr.App.Service<TargetService>().AddStoredAsync(name, pointed.ConnectionString, null, TargetProvider.Neon, CancellationToken.None);
        try
        {
            view = await ViewAsync(restore.Id);
            Assert.Equal($"Target {name}", view.UsedBy);
            Assert.False(view.CanStop || view.CanRemove);
            await RefusedAsync(AuditActions.PitrRestoredServerRemoved, () => Servers.RemoveAsync(PitrFixture.Admin, restore.Id, view.DirectoryName, CancellationToken.None), $"Target {name} points at 127.0.0.1:{restore.Port}");
            await RefusedAsync(AuditActions.PitrRestoredServerStopped, () => Servers.StopAsync(PitrFixture.Admin, restore.Id, CancellationToken.None), "is in use");
            Assert.Equal(RestoredServerState.Running, (await ViewAsync(restore.Id)).Live.State);
            Assert.Equal(1, await pitr.CountOnRestoredAsync(restore, table));
        }
        finally
        {
            await pitr.App.Service<DeploymentService>().RemoveAsync(PitrFixture.Admin, target, name, CancellationToken.None);
        }

        // The target gone, the promoted copy can be removed.
        Assert.Null((await ViewAsync(restore.Id)).UsedBy);
        await Servers.RemoveAsync(PitrFixture.Admin, restore.Id, view.DirectoryName, CancellationToken.None);
        Assert.False(Directory.Exists(restore.DataDirectory));
    }

    [Fact]
    public async Task WhileTheRestoreRuns_StopStartAndRemoveAreRefused_AndTheDirectoryIsUntouched()
    {
        // A restore in the middle of unpacking: its record says running and its directory fills up.
        var directory = pitr.NewRestoreDirectory();
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "PG_VERSION"), "15\n");
        // Running with no instance behind it in the record, so no sweep ends it during the test.
        var run = RunFixtures.Run(RunKind.PitrRestore, pitr.Server, phase: "Unpacking base backup");
        run.Status = RunStatus.Running;
        var record = new PitrRestoreRecord
        {
            Id = run.Id, Run = run, TargetId = pitr.Server,
            TargetTime = DateTimeOffset.UtcNow.AddMinutes(-1), Zone = "UTC", Mode = PitrRestoreMode.Verify, DataDirectory = directory, Port = 1,
        };
        var db = pitr.App.Service<IDbContextFactory<ConsoleDbContext>>();
        await using (var write = await db.CreateDbContextAsync())
        {
            write.Add(record);
            await write.SaveChangesAsync();
        }

        try
        {
            var view = await ViewAsync(record.Id);
            Assert.Equal(RestoredServerState.Restoring, view.Live.State);
            Assert.False(view.CanStop || view.CanStart || view.CanRemove);

            await RefusedAsync(AuditActions.PitrRestoredServerRemoved, () => Servers.RemoveAsync(PitrFixture.Admin, record.Id, view.DirectoryName, CancellationToken.None), "is still running (Unpacking base backup)");
            await RefusedAsync(AuditActions.PitrRestoredServerStopped, () => Servers.StopAsync(PitrFixture.Admin, record.Id, CancellationToken.None), "is still running");
            await RefusedAsync(AuditActions.PitrRestoredServerStarted, () => Servers.StartAsync(PitrFixture.Admin, record.Id, CancellationToken.None), "is still running");
            Assert.True(File.Exists(Path.Combine(directory, "PG_VERSION")));
        }
        finally
        {
            await using var clean = await db.CreateDbContextAsync();
            await clean.Set<RunRecord>().Where(r => r.Id == record.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Failed));
        }

        // Failed, it left no server: it is no longer listed and no action finds it.
        Assert.DoesNotContain(await Servers.ListAsync(pitr.Server, CancellationToken.None), v => v.Id == record.Id);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Servers.RemoveAsync(PitrFixture.Admin, record.Id, "x", CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(directory, "PG_VERSION")));
    }

    [Fact]
    public async Task UnknownId_IsRefusedForEveryAction_AndTheRefusalIsAudited()
    {
        var unknown = Guid.NewGuid();
        var calls = new (string Action, Func<Task> Call)[]
        {
            (AuditActions.PitrRestoredServerStopped, () => Servers.StopAsync(PitrFixture.Operator, unknown, CancellationToken.None)),
            (AuditActions.PitrRestoredServerStarted, () => Servers.StartAsync(PitrFixture.Operator, unknown, CancellationToken.None)),
            (AuditActions.PitrRestoredServerRemoved, () => Servers.RemoveAsync(PitrFixture.Admin, unknown, "1234", CancellationToken.None)),
        };
        foreach (var (action, call) in calls)
        {
            var e = await Assert.ThrowsAsync<KeyNotFoundException>(call);
            Assert.Contains($"There is no restored server {unknown}", e.Message, StringComparison.Ordinal);
            Assert.EndsWith("Nothing was done.", e.Message, StringComparison.Ordinal);
            var audit = await LastAuditAsync(action);
            Assert.Equal((AuditOutcome.Failed, unknown.ToString()), (audit.Outcome, audit.Target));
        }
    }
}
