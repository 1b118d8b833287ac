using System.Globalization;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>The console instance streaming a server's WAL is killed (SIGKILL: a crash, a lost host). Its pg_receivewal
/// dies with it, the slot keeps the WAL on the server while no instance streams, and another instance takes over from the
/// slot: every commit reaches the archive, nothing is half-archived, and a restore reads the newest, partial segment. Also:
/// the scratch files of point-in-time recovery live in the process's own work folder.</summary>
[Trait("Capability", "Pitr")]
public sealed class PitrConsoleKilledTests(PitrFixture pitr) : IClassFixture<PitrFixture>
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static string Text(DateTimeOffset utc) => utc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string InstanceOf(int processId) => Environment.MachineName + ":" + processId;

    private async Task<Lsn> CommitAsync(string table, int id)
    {
        await pitr.QueryAsync<int>($"INSERT INTO {table} VALUES ({id}); SELECT 1");
        return Lsn.Parse(await pitr.QueryAsync<string>("SELECT pg_current_wal_lsn()::text"));
    }

    private Task SwitchSegmentAsync() => pitr.QueryAsync<string>("SELECT pg_switch_wal()::text");

    private async Task<PitrServerState> StateAsync() => (await pitr.OverviewAsync()).State!;

    /// <summary>Waits until the receiver of <paramref name="processId"/>'s console streams and has received up to
    /// <paramref name="position"/>.</summary>
    private Task WaitForReceivedAsync(int processId, Lsn position) =>
        PitrFixture.WaitForAsync($"the console {processId} to receive WAL up to {position}", async () =>
        {
            var s = await StateAsync();
            return s.State == ReceiverState.Streaming && s.Instance == InstanceOf(processId) && s.LastReceivedLsn is { } r && Lsn.Parse(r) >= position;
        });

    private async Task<(bool Active, Lsn? Restart)> SlotAsync()
    {
        var slot = (await StateAsync()).SlotName;
        var row = await pitr.QueryAsync<string>($"SELECT active::text || ' ' || coalesce(restart_lsn::text, '') FROM pg_replication_slots WHERE slot_name = '{slot}'");
        var parts = row.Split(' ');
        return (parts[0] == "true", parts[1].Length == 0 ? null : Lsn.Parse(parts[1]));
    }

    private async Task<bool> OnServerAsync(Lsn position) =>
        await pitr.QueryAsync<long>($"SELECT count(*) FROM pg_ls_waldir() WHERE name = pg_walfile_name('{position}')") == 1;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StreamingConsoleKilled_AnotherInstanceResumesFromTheSlot_NoCommitIsLost_AndARestoreUsesThePartialSegment(bool sameWorkDirectory)
    {
        var host = pitr.App.Service<WalReceiverHost>();
        var workspace = pitr.App.Service<PitrWorkspace>();
        var stores = pitr.App.Service<PitrArchiveStores>();
        var server = pitr.Server;

        // This instance stops streaming (it lets go of the server's lock), so the other console is the one streaming.
        await host.StopAsync(CancellationToken.None);
        var restarted = false;
        try
        {
            await PitrFixture.WaitForAsync("this instance to stop streaming", async () => (await StateAsync()).State == ReceiverState.Stopped);

            // The other console: the same host restarting on the same folder, or another host with a folder of its own.
            var otherWork = sameWorkDirectory ? workspace.Root : Path.Combine(pitr.App.DataDirectory, "other-host-pitr");
            await using var other = new ExternalConsole(pitr.App, pitr.Postgres.Demo.ConnectionString)
            {
                Settings =
                {
                    ["HELLOJOHN_PROVIDER"] = "Neon",
                    ["Pitr__Enabled"] = "true",
                    ["Pitr__WorkDirectory"] = otherWork,
                    ["Pitr__SupervisorInterval"] = "00:00:01",
                    ["Pitr__PartialCopyInterval"] = "00:00:01",
                    ["Pitr__RestartDelay"] = "00:00:00.500",
                    ["Pitr__BaseBackupCron"] = "",
                },
            };
            await other.StartAsync();
            await PitrFixture.WaitForAsync("the other console to stream", async () =>
            {
                var s = await StateAsync();
                return s.State == ReceiverState.Streaming && s.Instance == InstanceOf(other.ProcessId);
            });

            // Commits while the other console streams, across a segment switch.
            var table = $"pitr_kill_{Guid.NewGuid():N}"[..20];
            await pitr.QueryAsync<int>($"CREATE TABLE {table} (id int PRIMARY KEY); SELECT 1");
            await CommitAsync(table, 1);
            await SwitchSegmentAsync();
            await CommitAsync(table, 2);
            await WaitForReceivedAsync(other.ProcessId, await CommitAsync(table, 3));
            var otherSpool = Path.Combine(otherWork, server.ToString("N"), "spool");
            var leftPartial = Assert.Single(Directory.GetFiles(otherSpool, "*.partial"));
            Assert.True(WalFileName.TryParse(Path.GetFileName(leftPartial), out var open));
            await other.WaitForAsync(() => Task.FromResult(other.ToolProcesses("pg_receivewal").Count == 1));
            var receiver = Assert.Single(other.ToolProcesses("pg_receivewal"));

            other.Kill();

            // Its pg_receivewal dies with it (parent-death signal), and the server sees the slot unused.
            await other.WaitForAsync(() => Task.FromResult(!ExternalConsole.IsAlive(receiver.Pid)));
            await PitrFixture.WaitForAsync("the slot to be left unused", async () => !(await SlotAsync()).Active);

            // What a console killed while it wrote the segment it had open to the store leaves there: the unfinished
            // upload of that segment's key.
            var unfinished = Path.Combine(pitr.App.BackupDirectory, PitrKeys.Wal(server, WalFileName.SegmentOf(open.Timeline, open.Segment)) + LocalDiskBackupStore.PartialSuffix);
            Directory.CreateDirectory(Path.GetDirectoryName(unfinished)!);
            await File.WriteAllTextAsync(unfinished, "half of a compressed segment");

            // Commits while no console streams: the slot keeps their WAL on the server, across switches and a checkpoint.
            var outage = new List<Lsn> { await CommitAsync(table, 10) };
            await SwitchSegmentAsync();
            outage.Add(await CommitAsync(table, 11));
            await SwitchSegmentAsync();
            outage.Add(await CommitAsync(table, 12));
            await pitr.QueryAsync<int>("CHECKPOINT; SELECT 1");
            Assert.True(await OnServerAsync(outage[0]));
            if (!sameWorkDirectory)
            {
                // This instance's own folder is behind the slot now: the segment it ends in is gone from the server.
                var stale = Assert.Single(Directory.GetFiles(workspace.SpoolOf(server), "*.partial"));
                Assert.True(WalFileName.TryParse(Path.GetFileName(stale), out var behind));
                Assert.True(behind.Segment < (await SlotAsync()).Restart!.Value.Segment);
                Assert.False(await OnServerAsync(new Lsn(behind.Start.Value + 1)));
            }

            // This instance takes over, from the slot.
            await host.StartAsync(CancellationToken.None);
            restarted = true;
            var lastIncluded = await CommitAsync(table, 20);
            await WaitForReceivedAsync(Environment.ProcessId, lastIncluded);
            Assert.NotEqual(receiver.Pid, (await StateAsync()).ProcessId);

            // A restore target after the last commit, in the segment still being written; one more commit after it.
            var target = NextWholeSecond(await pitr.ServerNowAsync());
            await PitrFixture.WaitForAsync($"the server clock to pass {target:HH:mm:ss.fff}", async () => await pitr.ServerNowAsync() > target.AddMilliseconds(300));
            var after = await CommitAsync(table, 99);
            await WaitForReceivedAsync(Environment.ProcessId, after);
            await PitrFixture.WaitForAsync("the partial copy in the stores to hold the last commit", async () =>
                (await pitr.CataloguedAsync()).Any(w => w.Kind == WalFileKind.Partial && w.Segment == after.Segment && w.EndLsn is { } e && Lsn.Parse(e) >= after));
            await pitr.WaitForStreamedAsync(target);

            // No gap, every segment from the first archived one to the open one, the outage's commits in closed ones.
            var overview = await pitr.OverviewAsync();
            Assert.Empty(overview.Window.Latest!.Gaps);
            Assert.NotNull(overview.Window.Find(target));
            var catalogued = await pitr.CataloguedAsync();
            var closed = catalogued.Where(w => w.Kind == WalFileKind.Segment).Select(w => w.Segment).Order().ToList();
            Assert.Equal(Enumerable.Range(0, closed.Count).Select(i => closed[0] + i), closed);
            Assert.Equal(after.Segment, closed[^1] + 1);
            Assert.All(outage.Take(2), lsn => Assert.Contains(lsn.Segment, closed));
            Assert.Equal(lastIncluded.Segment, after.Segment);

            // The segment the killed console had open is archived whole: its partial copy is superseded, the unfinished
            // upload it left was discarded, and no file of the archive is half-written or unknown to the catalog.
            Assert.Contains(open.Segment, closed);
            Assert.DoesNotContain(catalogued, w => w.Kind == WalFileKind.Partial && w.Segment == open.Segment);
            Assert.False(File.Exists(unfinished));
            var check = Path.Combine(pitr.App.DataDirectory, $"wal-check-{Guid.NewGuid():N}");
            Directory.CreateDirectory(check);
            foreach (var w in catalogued.Where(w => w.Kind != WalFileKind.Partial))
            {
                await stores.FetchAsync(w.Key, w.Sha256, Path.Combine(check, w.Id.ToString(CultureInfo.InvariantCulture)), CancellationToken.None);
            }

            Directory.Delete(check, recursive: true);
            await PitrFixture.WaitForAsync("every stored WAL file to be catalogued", async () =>
            {
                var listed = await stores.ListWalAsync(server, CancellationToken.None);
                var keys = (await pitr.CataloguedAsync()).Select(w => w.Key).ToHashSet();
                return listed.All(l => keys.Contains(l.Key));
            });

            // The killed console's own folder: on the same host it is the one this instance went on with (its partial
            // segment finished and archived); another host's stays where it was, all of it in the archive.
            Assert.Equal(sameWorkDirectory, !File.Exists(leftPartial));
            if (!sameWorkDirectory)
            {
                Assert.Contains(pitr.App.Logs.Lines, l => l.Contains("streaming from the slot", StringComparison.Ordinal));
            }

            var restore = await pitr.RestoreAsync(new PitrRestoreRequest(server, Text(target), "UTC", PitrRestoreMode.Verify, pitr.NewRestoreDirectory(), null));
            Assert.Equal(7, await pitr.CountOnRestoredAsync(restore, table));
            Assert.StartsWith("recovery stopping before commit of transaction", restore.StoppedAt);
            await pitr.StopRestoredAsync(restore.DataDirectory);
        }
        finally
        {
            if (!restarted)
            {
                await host.StartAsync(CancellationToken.None);
            }
        }

        await PitrFixture.WaitForAsync("this instance to stream", async () =>
        {
            var s = await StateAsync();
            return s.State == ReceiverState.Streaming && s.Instance == InstanceOf(Environment.ProcessId);
        });
    }

    [Fact]
    public async Task BaseBackupScratch_IsInThisProcesssOwnFolderOfThePitrWorkDirectory_AndWhatADeadProcessLeftIsRemovedAtTheNextStart()
    {
        var workspace = pitr.App.Service<PitrWorkspace>();
        var work = pitr.App.Service<ConsoleWorkFolder>();
        var scratch = workspace.ScratchFor("basebackup");
        var own = work.FolderUnder(workspace.Root);
        Assert.Equal(own, Path.GetDirectoryName(scratch));
        Assert.Equal(Path.Combine(workspace.Root, ConsoleWorkFolder.FolderNameInConfigured), Path.GetDirectoryName(own));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(own));

        // What kill -9 during a base backup leaves: a process folder whose lock nobody holds, with a copy of the database.
        var dead = Path.Combine(workspace.Root, ConsoleWorkFolder.FolderNameInConfigured, "4242-deadbeef");
        var copy = Path.Combine(dead, "basebackup-0123", "tar");
        Directory.CreateDirectory(copy);
        await File.WriteAllTextAsync(Path.Combine(dead, ".owner"), "");
        await File.WriteAllTextAsync(Path.Combine(copy, "base.tar"), "every user's password hash");
        // And what console versions before the process folders left in {work}/scratch.
        var legacy = Path.Combine(PitrWorkspace.LegacyScratchOf(workspace.Root), "basebackup-4567");
        Directory.CreateDirectory(legacy);
        await File.WriteAllTextAsync(Path.Combine(legacy, "base.tar"), "every user's password hash");
        Directory.SetLastWriteTimeUtc(legacy, DateTime.UtcNow.AddHours(-2));

        // What the next start runs.
        await pitr.App.Services.GetServices<IConsoleStartupTask>().OfType<WorkFolderStartupTask>().Single().RunAsync(CancellationToken.None);

        Assert.False(Directory.Exists(dead));
        Assert.False(Directory.Exists(legacy));
        Assert.True(Directory.Exists(own));
    }

    [Fact]
    public async Task WalDump_LinksTheSegmentInThisProcesssWorkFolder_AndRemovesTheLink()
    {
        var work = pitr.App.Service<ConsoleWorkFolder>();
        var runner = new RecordingPgToolRunner(pitr.App.Service<IPgToolRunner>());
        var spool = pitr.App.Service<PitrWorkspace>().SpoolOf(pitr.Server);
        string? partial = null;
        await PitrFixture.WaitForAsync("a segment being received", () =>
        {
            partial = Directory.GetFiles(spool, "*.partial").FirstOrDefault();
            return Task.FromResult(partial is not null);
        });
        Assert.True(WalFileName.TryParse(Path.GetFileName(partial!), out var name));

        var commits = await new WalDump(runner, work).ReadAsync(partial!, name, null, CancellationToken.None);

        Assert.NotNull(commits.EndOfValidWal);
        var args = Assert.Single(runner.Invocations).Arguments;
        var linkedIn = args[args.ToList().IndexOf("-p") + 1];
        Assert.Equal(work.FolderUnder(), Path.GetDirectoryName(linkedIn));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(work.FolderUnder()));
        Assert.False(Directory.Exists(linkedIn));
    }

    private static DateTimeOffset NextWholeSecond(DateTimeOffset t) =>
        new DateTimeOffset(t.UtcDateTime.Ticks - (t.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
}
