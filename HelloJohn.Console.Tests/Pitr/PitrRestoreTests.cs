using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Tests.Pitr;

[Trait("Capability", "Pitr")]
public sealed class PitrRestoreTests(PitrFixture pitr) : IClassFixture<PitrFixture>
{
    private static string Text(DateTimeOffset utc) => utc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private async Task<string> NewTableAsync()
    {
        var table = $"pitr_probe_{Guid.NewGuid():N}"[..24];
        await pitr.QueryAsync<int>($"CREATE TABLE {table} (id int PRIMARY KEY, note text); SELECT 1");
        return table;
    }

    /// <summary>Commits one row and returns the server's clock right after the commit.</summary>
    private async Task<DateTimeOffset> CommitRowAsync(string table, int id)
    {
        await pitr.QueryAsync<int>($"INSERT INTO {table} VALUES ({id}, 'row {id}'); SELECT 1");
        return await pitr.ServerNowAsync();
    }

    private async Task WaitForServerClockAsync(DateTimeOffset at) =>
        await PitrFixture.WaitForAsync($"the server clock to pass {at:HH:mm:ss.fff}", async () => await pitr.ServerNowAsync() > at);

    [Fact]
    public async Task RestoreToTimeBetweenFirstAndSecondCommit_HasExactlyTheRowsUpToTheFirst()
    {
        var table = await NewTableAsync();
        var t1 = await CommitRowAsync(table, 1);
        // The target is a whole second (the form takes seconds) after t1 and before the second commit.
        var target = new DateTimeOffset(t1.UtcDateTime.Ticks - (t1.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
        await WaitForServerClockAsync(target.AddMilliseconds(300));
        await CommitRowAsync(table, 2);
        await Task.Delay(300);
        var before3 = await pitr.ServerNowAsync();
        await CommitRowAsync(table, 3);
        await pitr.WaitForStreamedAsync(before3);

        var restore = await pitr.RestoreAsync(new PitrRestoreRequest(pitr.Server, Text(target), "UTC", PitrRestoreMode.Verify, pitr.NewRestoreDirectory(), null));

        Assert.Equal(1, await pitr.CountOnRestoredAsync(restore, table));
        Assert.StartsWith("recovery stopping before commit of transaction", restore.StoppedAt);
        Assert.Contains($".public.{table} 1", restore.RowCounts);
        Assert.Contains("SELECT pg_promote();", restore.NextSteps);
        Assert.Contains("DATABASE_URL", restore.NextSteps);
        Assert.False(Directory.Exists(Path.Combine(restore.DataDirectory, PointInTimeRestoreEngine.StagingFolder)));
    }

    [Fact]
    public async Task Targets_OutsideTheWindowOrBadlyGiven_AreRefusedAndNothingStarts()
    {
        var overview = await pitr.OverviewAsync();
        var window = overview.Window.Current!;
        var service = pitr.App.Service<PitrService>();
        var dir = pitr.NewRestoreDirectory();
        async Task<string> RefusedAsync(string? time, string? zone, string? directory, int? port)
        {
            var e = await Assert.ThrowsAsync<PitrInputException>(() =>
                service.RequestRestoreAsync(PitrFixture.Operator, new PitrRestoreRequest(pitr.Server, time, zone, PitrRestoreMode.Verify, directory, port), CancellationToken.None));
            Assert.EndsWith("Nothing was restored.", e.Message);
            return e.Message;
        }

        var before = await RefusedAsync(Text(window.From.AddMinutes(-10)), "UTC", dir, null);
        Assert.Contains("before the end of the oldest base backup", before);
        Assert.Contains("Recoverable window: timeline", before);

        // The console's own database shares this server and commits all the time: with streaming stopped, the newest
        // streamed commit stays put and a time after it (but not in the future) can be asked for.
        await service.SetPausedAsync(PitrFixture.Admin, pitr.Server, paused: true, CancellationToken.None);
        try
        {
            await PitrFixture.WaitForAsync("streaming to stop", async () => (await pitr.OverviewAsync()).State!.State == ReceiverState.Stopped);
            // The receiver's last flush can still be catalogued after it reports stopped: read the newest commit once
            // the state and the window have stopped moving, and take the later of the two.
            var newest = await StableNewestAsync();
            await WaitForServerClockAsync(newest.AddSeconds(3));
            var after = await RefusedAsync(Text(newest.AddSeconds(2)), "UTC", dir, null);
            Assert.Contains("after the newest commit", after);
        }
        finally
        {
            await service.SetPausedAsync(PitrFixture.Admin, pitr.Server, paused: false, CancellationToken.None);
            await PitrFixture.WaitForAsync("streaming to resume", async () => (await pitr.OverviewAsync()).State!.State == ReceiverState.Streaming);
        }


        Assert.Contains("time zone", await RefusedAsync(Text(window.From.AddSeconds(1)), null, dir, null));
        Assert.Contains("not a date and time", await RefusedAsync("yesterday", "UTC", dir, null));
        Assert.Contains("absolute path", await RefusedAsync(Text(window.From.AddSeconds(1)), "UTC", "relative/dir", null));

        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "PG_VERSION"), "15\n");
        Assert.Contains("is not empty", await RefusedAsync(Text(window.From.AddSeconds(1)), "UTC", dir, null));
        Directory.Delete(dir, recursive: true);

        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        Assert.Contains("is in use", await RefusedAsync(Text(window.From.AddSeconds(1)), "UTC", dir, ((IPEndPoint)busy.LocalEndpoint).Port));

        Assert.False(Directory.Exists(dir));
        Assert.DoesNotContain((await pitr.OverviewAsync()).Restores, r => r.DataDirectory == dir);
    }

    [Fact]
    public async Task DeletedSegmentInTheMiddle_IsShownAsAGap_AndARestoreAcrossItIsRefused()
    {
        var table = await NewTableAsync();
        for (var i = 0; i < 3; i++)
        {
            await CommitRowAsync(table, i);
            await pitr.QueryAsync<string>("SELECT pg_switch_wal()::text");
        }

        await WaitForServerClockAsync((await pitr.ServerNowAsync()).AddSeconds(1.2));
        var last = await CommitRowAsync(table, 10);
        await pitr.WaitForStreamedAsync(last.AddMilliseconds(-500));
        var newestBackupStart = (await pitr.OverviewAsync()).BaseBackups.Where(b => b.Status == BaseBackupStatus.Succeeded).Max(b => Lsn.Parse(b.StartLsn!).Segment);
        WalArchiveFile? middle = null;
        await PitrFixture.WaitForAsync("three archived segments after the base backup", async () =>
        {
            var closed = (await pitr.CataloguedAsync()).Where(w => w.Kind == WalFileKind.Segment && w.Segment > newestBackupStart).OrderBy(w => w.Segment).ToList();
            middle = closed.Count >= 3 ? closed[^2] : null;
            return middle is not null;
        });

        var stored = Path.Combine(pitr.App.BackupDirectory, middle!.Key);
        var aside = stored + ".aside";
        File.Move(stored, aside);
        try
        {
            await PitrFixture.WaitForAsync("the gap to show", async () => (await pitr.OverviewAsync()).Window.Latest!.Gaps.Count > 0);
            var overview = await pitr.OverviewAsync();
            var gap = Assert.Single(overview.Window.Latest!.Gaps);
            Assert.Equal(middle.Segment, gap.From);
            Assert.Equal(middle.Segment, gap.To);
            Assert.Contains(WalFileName.SegmentOf(middle.Timeline, middle.Segment).FileName, gap.Describe());

            var e = await Assert.ThrowsAsync<PitrInputException>(() => pitr.App.Service<PitrService>().RequestRestoreAsync(PitrFixture.Operator,
                new PitrRestoreRequest(pitr.Server, Text(last), "UTC", PitrRestoreMode.Verify, pitr.NewRestoreDirectory(), null), CancellationToken.None));
            Assert.Contains("not continuous", e.Message);
            Assert.Contains("is missing", e.Message);
        }
        finally
        {
            File.Move(aside, stored);
        }

        await PitrFixture.WaitForAsync("the gap to close", async () => (await pitr.OverviewAsync()).Window.Latest!.Gaps.Count == 0);
    }

    [Fact]
    public async Task KilledReceiver_ResumesFromTheSlot_AndNoSegmentIsLost()
    {
        var before = await pitr.OverviewAsync();
        var pid = before.State!.ProcessId!.Value;
        System.Diagnostics.Process.GetProcessById(pid).Kill();

        // WAL written while nothing receives: the slot keeps it on the server.
        var table = await NewTableAsync();
        for (var i = 0; i < 2; i++)
        {
            await CommitRowAsync(table, i);
            await pitr.QueryAsync<string>("SELECT pg_switch_wal()::text");
        }

        var last = await CommitRowAsync(table, 99);
        await PitrFixture.WaitForAsync("a new pg_receivewal streaming", async () =>
        {
            var s = (await pitr.OverviewAsync()).State!;
            return s.State == ReceiverState.Streaming && s.ProcessId is { } p && p != pid;
        });
        await pitr.WaitForStreamedAsync(last.AddMilliseconds(-500));

        var overview = await pitr.OverviewAsync();
        Assert.Empty(overview.Window.Latest!.Gaps);
        var segments = (await pitr.CataloguedAsync()).Where(w => w.Kind == WalFileKind.Segment).Select(w => w.Segment).Order().ToList();
        Assert.Equal(Enumerable.Range(0, segments.Count).Select(i => segments[0] + i), segments);
        Assert.True(overview.Window.Current!.To >= last.AddMilliseconds(-500));
        Assert.True(pitr.App.Service<IBackupStoreRegistry>().All.Count > 0);
    }

    private async Task<DateTimeOffset> StableNewestAsync()
    {
        async Task<DateTimeOffset> ReadAsync()
        {
            var o = await pitr.OverviewAsync();
            var commit = o.State!.NewestCommitAt!.Value;
            return o.Window.Current is { } w && w.To > commit ? w.To : commit;
        }

        var last = await ReadAsync();
        for (var i = 0; i < 120; i++)
        {
            await Task.Delay(1000);
            var now = await ReadAsync();
            if (now == last)
            {
                return now;
            }

            last = now;
        }

        return last;
    }
}
