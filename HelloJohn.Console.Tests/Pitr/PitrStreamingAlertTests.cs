using System.Globalization;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Notifications;
using Npgsql;

namespace HelloJohn.Console.Tests.Pitr;

/// <summary>WAL that stops streaming, on a server of its own (it moves the target's connection and cuts the stream, which
/// the window tests must not see): told once to a real webhook receiver while it lasts, and its resumption once.</summary>
[Trait("Capability", "Pitr")]
public sealed class PitrStreamingAlertTests(PitrFixture pitr) : IClassFixture<PitrFixture>
{
    [Fact]
    public async Task StreamingThatCannotResume_IsToldOnceWhileItLasts_AndItsResumptionOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var path = await pitr.HookAsync(receiver, NotificationEventKind.WalStreamingStopped);
        var targets = pitr.App.Service<TargetService>();
        var source = await pitr.SourceAsync();
        // The server stays up; the console is given a role that may log in but not replicate (as after a password or
        // role change on the server), and its running stream is cut.
        var noReplication = new NpgsqlConnectionStringBuilder(source.ConnectionString) { Username = PostgresClusterFixture.DemoRole, Password = PostgresClusterFixture.DemoPassword };
        await targets.SetConnectionAsync(PitrFixture.Admin, pitr.Server, noReplication.ConnectionString, CancellationToken.None);
        try
        {
            await using (var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(source.ConnectionString) { Pooling = false }.ConnectionString))
            {
                await conn.OpenAsync();
                await using var cut = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_replication", conn);
                await cut.ExecuteScalarAsync();
            }

            await DeliveryWait.UntilAsync(() => PitrFixture.Titles(receiver, path).Contains("WAL streaming of pitr stopped"), "the streaming-stopped notice");
            // Restarts keep failing (their delay doubles each time), each seen by further supervisor passes: still told once.
            await PitrFixture.WaitForAsync("several more failed restarts", async () =>
                System.Text.RegularExpressions.Regex.Match((await pitr.OverviewAsync()).State!.Reason ?? "", @"Restarting in (\d+)") is { Success: true } m && int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) >= 4);
        }
        finally
        {
            await targets.SetConnectionAsync(PitrFixture.Admin, pitr.Server, source.ConnectionString, CancellationToken.None);
        }

        await PitrFixture.WaitForAsync("streaming again", async () => (await pitr.OverviewAsync()).State!.State == ReceiverState.Streaming);
        await DeliveryWait.UntilAsync(() => PitrFixture.Titles(receiver, path).LastOrDefault() == "WAL streaming of pitr resumed", "the all-clear");
        var bodies = receiver.Bodies(path);
        var stopped = Assert.Single(bodies, b => b.GetProperty("title").GetString() == "WAL streaming of pitr stopped");
        Assert.Equal("wal.streaming_stopped", stopped.GetProperty("event").GetString());
        Assert.Contains("Restarting", stopped.GetProperty("text").GetString());
        Assert.Equal($"{PitrFixture.ConsoleUrl}/pitr/{pitr.Server}", stopped.GetProperty("url").GetString());
        Assert.Single(bodies, b => b.GetProperty("title").GetString() == "WAL streaming of pitr resumed");
    }
}
