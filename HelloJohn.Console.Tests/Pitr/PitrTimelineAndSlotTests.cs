using System.Globalization;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Notifications;
using Npgsql;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>What moves the server under the console: a slot left behind, a slot lost, a promotion to a new timeline.
/// Every test acts on the target's current server, so their order does not matter. Each condition reaches a real webhook
/// receiver once while it lasts, and its all-clear once when it ends.</summary>
[Trait("Capability", "Pitr")]
public sealed class PitrTimelineAndSlotTests(PitrFixture pitr) : IClassFixture<PitrFixture>
{
    private PitrService Service => pitr.App.Service<PitrService>();

    private static string Text(DateTimeOffset utc) => utc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static DateTimeOffset NextWholeSecond(DateTimeOffset t) => new DateTimeOffset(t.UtcDateTime.Ticks - (t.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);

    /// <summary>Writes and switches segments: each switch moves the server's WAL position on by up to a segment.</summary>
    private async Task WriteSegmentsAsync(int count)
    {
        var table = $"pitr_fill_{Guid.NewGuid():N}"[..20];
        await pitr.QueryAsync<int>($"CREATE TABLE {table} (id int); SELECT 1");
        for (var i = 0; i < count; i++)
        {
            await pitr.QueryAsync<string>($"INSERT INTO {table} VALUES ({i}); SELECT pg_switch_wal()::text");
        }
    }

    private async Task PauseAsync(bool paused)
    {
        await Service.SetPausedAsync(PitrFixture.Admin, pitr.Server, paused, CancellationToken.None);
        var wanted = paused ? ReceiverState.Stopped : ReceiverState.Streaming;
        await PitrFixture.WaitForAsync($"the receiver to be {wanted}", async () => (await pitr.OverviewAsync()).State!.State == wanted);
    }

    [Fact]
    public async Task SlotOverTheThreshold_RaisesTheAlarm_AndNotifiesOnceUntilItClears()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var path = await pitr.HookAsync(receiver, NotificationEventKind.SlotAtRisk, NotificationEventKind.WalStreamingStopped);
        const string AtRisk = "Replication slot of pitr at risk";
        await PauseAsync(true);
        try
        {
            await WriteSegmentsAsync(6);
            var report = await Service.CheckReadinessAsync(pitr.Server, CancellationToken.None);
            Assert.True(report.SlotAlarm);
            Assert.Equal(ReadinessLevel.Red, report.Level);
            var slot = Assert.Single(report.Checks, c => c.Name == "replication slot");
            Assert.StartsWith("ALARM:", slot.Message);
            Assert.Contains("pg_drop_replication_slot", string.Join('\n', slot.Fix));
            Assert.Contains("PITR alarm", pitr.App.Logs.AllText);
            await DeliveryWait.UntilAsync(() => PitrFixture.Titles(receiver, path).Contains(AtRisk), "the slot alarm to be delivered");
            // The supervisor keeps seeing the slot over the alarm; people are told once. Two more segments later (each
            // seen by further passes) it is still one message.
            await WriteSegmentsAsync(2);
            await PitrFixture.WaitForAsync("the supervisor to see the larger slot", async () => (await Service.CheckReadinessAsync(pitr.Server, CancellationToken.None)).SlotAlarm);
        }
        finally
        {
            await PauseAsync(false);
        }

        await PitrFixture.WaitForAsync("the alarm to clear", async () => !(await Service.CheckReadinessAsync(pitr.Server, CancellationToken.None)).SlotAlarm);
        await DeliveryWait.UntilAsync(() => PitrFixture.Titles(receiver, path).LastOrDefault() == "Replication slot of pitr is safe again", "the all-clear");
        var titles = PitrFixture.Titles(receiver, path);
        Assert.Single(titles, t => t == AtRisk);
        // Paused on purpose by an administrator: not "streaming stopped".
        Assert.DoesNotContain(titles, t => t.Contains("streaming", StringComparison.OrdinalIgnoreCase));
        var alarm = receiver.Bodies(path).First(b => b.GetProperty("title").GetString() == AtRisk);
        Assert.Equal("wal.slot_at_risk", alarm.GetProperty("event").GetString());
        Assert.Equal($"{PitrFixture.ConsoleUrl}/pitr/{pitr.Server}", alarm.GetProperty("url").GetString());
        Assert.True(alarm.GetProperty("facts").GetProperty("retainedBytes").GetString() is { } kept && long.Parse(kept, CultureInfo.InvariantCulture) > 64L * 1024 * 1024);
    }

    [Fact]
    public async Task LostSlot_LeadsToANewBaseBackup_AndTheWindowStartsThere()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var path = await pitr.HookAsync(receiver, NotificationEventKind.SlotAtRisk);
        var before = (await pitr.OverviewAsync()).BaseBackups.Select(b => b.Id).ToHashSet();
        await PauseAsync(true);
        try
        {
            await pitr.QueryAsync<bool>("ALTER SYSTEM SET max_slot_wal_keep_size = '32MB'; SELECT pg_reload_conf()");
            await WriteSegmentsAsync(6);
            await pitr.QueryAsync<int>("CHECKPOINT; SELECT 1");
            var report = await Service.CheckReadinessAsync(pitr.Server, CancellationToken.None);
            Assert.Contains(report.Checks, c => c.Name == "replication slot" && c.Message.Contains("lost", StringComparison.Ordinal));
        }
        finally
        {
            await PauseAsync(false);
            await pitr.QueryAsync<bool>("ALTER SYSTEM RESET max_slot_wal_keep_size; SELECT pg_reload_conf()");
        }

        BaseBackupRecord? fresh = null;
        await PitrFixture.WaitForAsync("a new base backup after the lost slot", async () =>
        {
            fresh = (await pitr.OverviewAsync()).BaseBackups.FirstOrDefault(b => !before.Contains(b.Id) && b.Status == BaseBackupStatus.Succeeded);
            return fresh is not null;
        });
        Assert.Contains("lost", fresh!.Reason);
        var marker = await pitr.ServerNowAsync();
        await pitr.QueryAsync<int>("CREATE TABLE pitr_after_lost (id int); SELECT 1");
        await pitr.WaitForStreamedAsync(marker);
        var overview = await pitr.OverviewAsync();
        Assert.Contains("lost", overview.State!.WindowRestartReason);
        Assert.Equal(fresh.ConsistentAt, overview.Window.Current!.From);
        Assert.NotEmpty(overview.Window.Latest!.Gaps);
        await DeliveryWait.UntilAsync(() => PitrFixture.Titles(receiver, path).Contains("Replication slot of pitr lost; the point-in-time window restarts"), "the lost-slot notice");
        Assert.Single(PitrFixture.Titles(receiver, path), t => t.Contains("lost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PromotedCopyStreamingIntoTheSameArchive_IsFollowedOnItsNewTimeline()
    {
        var table = $"pitr_tl_{Guid.NewGuid():N}"[..18];
        await pitr.QueryAsync<int>($"CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (1); SELECT 1");
        var target = NextWholeSecond(await pitr.ServerNowAsync());
        await PitrFixture.WaitForAsync("the clock to pass the target", async () => await pitr.ServerNowAsync() > target.AddMilliseconds(300));
        var marker = await pitr.ServerNowAsync();
        await pitr.QueryAsync<int>($"INSERT INTO {table} VALUES (2); SELECT 1");
        await pitr.WaitForStreamedAsync(marker);
        var timeline = (await pitr.OverviewAsync()).State!.Timeline;

        // Disaster recovery: the copy promotes to a new timeline and the target is pointed at it.
        var promoted = await pitr.RestoreAsync(new PitrRestoreRequest(pitr.Server, Text(target), "UTC", PitrRestoreMode.Disaster, pitr.NewRestoreDirectory(), null));
        Assert.Equal(1, await pitr.CountOnRestoredAsync(promoted, table));
        var source = await pitr.SourceAsync();
        var moved = new NpgsqlConnectionStringBuilder(source.ConnectionString) { Port = promoted.Port };
        // The lost-slot test of this class sets max_slot_wal_keep_size on the source, and the base backup its lost slot
        // asks for can be taken before the setting is reset: a copy restored from that base backup carries it in
        // postgresql.auto.conf and loses its own slot under the WAL of the next base backups.
        await using (var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(moved.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await conn.OpenAsync();
            await using var reset = new NpgsqlCommand("ALTER SYSTEM RESET max_slot_wal_keep_size; SELECT pg_reload_conf()", conn);
            await reset.ExecuteScalarAsync();
        }

        await pitr.App.Service<TargetService>().SetConnectionAsync(PitrFixture.Admin, pitr.Server, moved.ConnectionString, CancellationToken.None);

        await pitr.WaitWithStateAsync("streaming and a base backup on the new timeline", async () =>
        {
            var o = await pitr.OverviewAsync();
            return o.State!.Timeline > timeline && o.State.State == ReceiverState.Streaming &&
                o.BaseBackups.Any(b => b.Status == BaseBackupStatus.Succeeded && b.Timeline > timeline);
        });
        await pitr.QueryAsync<int>($"INSERT INTO {table} VALUES (3); SELECT 1");
        var target2 = NextWholeSecond(await pitr.ServerNowAsync());
        await PitrFixture.WaitForAsync("the clock to pass the second target", async () => await pitr.ServerNowAsync() > target2.AddMilliseconds(300));
        marker = await pitr.ServerNowAsync();
        await pitr.QueryAsync<int>($"INSERT INTO {table} VALUES (4); SELECT 1");
        // What the restore below needs: the second target inside a range of the new timeline.
        await pitr.WaitWithStateAsync("the second target inside the new timeline's window", async () =>
        {
            var o = await pitr.OverviewAsync();
            return o.State?.NewestCommitAt >= marker && o.Window.Find(target2) is { } range && range.Timeline > timeline;
        });

        var overview = await pitr.OverviewAsync();
        Assert.Equal(timeline + 1, overview.Window.Latest!.Timeline);
        Assert.Contains(timeline, overview.Window.Latest.History.Path);
        Assert.Contains("timeline", overview.State!.WindowRestartReason);
        var restored = await pitr.RestoreAsync(new PitrRestoreRequest(pitr.Server, Text(target2), "UTC", PitrRestoreMode.Verify, pitr.NewRestoreDirectory(), null));
        Assert.Equal(2, await pitr.CountOnRestoredAsync(restored, table));
    }
}
