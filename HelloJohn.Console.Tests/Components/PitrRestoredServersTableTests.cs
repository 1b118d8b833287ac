using Bunit;
using HelloJohn.Console.Core.Pitr;
using HelloJohn.Console.Web.Components.Controls;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The restored servers list: what each role may press, the typed confirmation of a removal, refusals shown.</summary>
[Trait("Capability", "Pitr")]
public sealed class PitrRestoredServersTableTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 20, 10, 0, 0, TimeSpan.Zero);

    private static RestoredServerView Server(RestoredServerState state, int port, string? usedBy = null, bool accepts = true) => new(
        Guid.NewGuid(), Guid.NewGuid(), $"/var/lib/postgresql/15/restored-{port}", port, PitrRestoreMode.Verify, T0, "Europe/Paris",
        new PitrRestoreLifecycleFacts(state == RestoredServerState.Restoring, "operator@example.test", T0.AddMinutes(5), T0.AddMinutes(7), "Unpacking base backup"),
        new RestoredServerLiveState(state, state == RestoredServerState.Running && accepts, 42L << 20, state == RestoredServerState.Running ? "server is running (PID: 4242)" : "no server is running"),
        usedBy,
        state == RestoredServerState.Removed ? T0.AddHours(1) : null,
        state == RestoredServerState.Removed ? "admin@example.test" : null,
        T0.AddHours(2));

    private static readonly RestoredServerView[] All =
    [
        Server(RestoredServerState.Running, 5501),
        Server(RestoredServerState.Stopped, 5502),
        Server(RestoredServerState.Restoring, 5503),
        Server(RestoredServerState.Removed, 5504),
        Server(RestoredServerState.Running, 5505, usedBy: "Target production"),
        Server(RestoredServerState.Missing, 5506),
    ];

    private IRenderedComponent<PitrRestoredServersTable> RenderTable(bool canStopStart, bool canRemove, Func<RestoredServerView, Task<string>>? stop = null,
        Func<RestoredServerView, string?, Task<string>>? remove = null) =>
        Render<PitrRestoredServersTable>(ps => ps
            .Add(p => p.Servers, All)
            .Add(p => p.CheckedAt, T0)
            .Add(p => p.CanStopStart, canStopStart)
            .Add(p => p.CanRemove, canRemove)
            .Add(p => p.OnStop, stop ?? (_ => Task.FromResult("stopped")))
            .Add(p => p.OnStart, _ => Task.FromResult("started"))
            .Add(p => p.OnRemove, remove ?? ((_, _) => Task.FromResult("removed"))));

    private static string Row(IRenderedComponent<PitrRestoredServersTable> cut, int port) =>
        cut.Find($"[data-testid=pitr-restored-server-row][data-port='{port}']").OuterHtml;

    /// <summary>The buttons each role sees on each row: ports with Stop, with Start, with Remove.</summary>
    [Theory]
    [InlineData("Admin", true, true, "5501", "5502", "5501,5502,5506")]
    [InlineData("Operator", true, false, "5501", "5502", "")]
    [InlineData("Viewer", false, false, "", "", "")]
    public void EachRole_SeesOnlyTheActionsItMayTake_AndOnlyWhereTheyApply(string role, bool canStopStart, bool canRemove, string stops, string starts, string removes)
    {
        var cut = RenderTable(canStopStart, canRemove);

        string Ports(string testId) => string.Join(',', All.Select(s => s.Port).Where(p => Row(cut, p).Contains($"data-testid=\"{testId}\"", StringComparison.Ordinal)));
        Assert.True(Ports("pitr-restored-stop") == stops, $"{role} stop: {Ports("pitr-restored-stop")}");
        Assert.Equal(starts, Ports("pitr-restored-start"));
        Assert.Equal(removes, Ports("pitr-restored-remove"));
    }

    [Fact]
    public void Rows_ShowDirectoryPortModeTimesWhoStateAndSize()
    {
        var cut = RenderTable(true, true);

        Assert.Equal(All.Length, cut.FindAll("[data-testid=pitr-restored-server-row]").Count);
        var running = cut.Find("[data-testid=pitr-restored-server-row][data-port='5501']").TextContent;
        Assert.Contains("/var/lib/postgresql/15/restored-5501", running);
        Assert.Contains("verification", running);
        Assert.Contains("paused at the target, read only", running);
        Assert.Contains("2026-01-20 10:00:00 UTC", running);
        Assert.Contains("Europe/Paris", running);
        Assert.Contains("by operator@example.test", running);
        Assert.Contains("running", running);
        Assert.Contains("accepts connections", running);
        Assert.Contains("42 MB", running);
        Assert.Contains("removed", cut.Find("[data-testid=pitr-restored-server-row][data-port='5504']").TextContent);
        Assert.Contains("by admin@example.test", cut.Find("[data-testid=pitr-restored-server-row][data-port='5504']").TextContent);
        Assert.Contains("restoring", cut.Find("[data-testid=pitr-restored-server-row][data-port='5503']").TextContent);
        Assert.Contains("In use: Target production points at it", cut.Find("[data-testid=pitr-restored-server-row][data-port='5505']").TextContent);
        Assert.Contains("directory missing", cut.Find("[data-testid=pitr-restored-server-row][data-port='5506']").TextContent);
    }

    [Fact]
    public void Remove_NeedsTheDirectorysNameTyped_ThenSendsItAndShowsWhatWasDone()
    {
        (RestoredServerView Server, string? Typed)? sent = null;
        var cut = RenderTable(true, true, remove: (s, typed) =>
        {
            sent = (s, typed);
            return Task.FromResult($"{s.DataDirectory} (port {s.Port}) was stopped and removed.");
        });

        cut.Find("[data-testid=pitr-restored-server-row][data-port='5501'] [data-testid=pitr-restored-remove]").Click();
        Assert.Contains("Remove restored-5501?", cut.Find("[data-testid=delete-restored-server-panel]").TextContent);
        var confirm = cut.Find("[data-testid=delete-restored-server-confirm]");
        Assert.True(confirm.HasAttribute("disabled"));
        cut.Find("input[data-testid=delete-confirmation-input]").Input("restored-550");
        Assert.True(cut.Find("[data-testid=delete-restored-server-confirm]").HasAttribute("disabled"));
        Assert.Null(sent);

        cut.Find("input[data-testid=delete-confirmation-input]").Input("restored-5501");
        cut.Find("[data-testid=delete-restored-server-confirm]").Click();

        cut.WaitForAssertion(() => Assert.Contains("was stopped and removed", cut.Find("[data-testid=pitr-restored-message]").TextContent));
        Assert.Equal((5501, "restored-5501"), (sent!.Value.Server.Port, sent.Value.Typed));
        Assert.Empty(cut.FindAll("[data-testid=delete-restored-server-panel]"));
    }

    [Fact]
    public void RefusedAction_ShowsTheReasonAboveTheList()
    {
        var cut = RenderTable(true, false, stop: _ => throw new InvalidOperationException("Target production points at 127.0.0.1:5501: this restored server is in use. Nothing was stopped."));

        cut.Find("[data-testid=pitr-restored-server-row][data-port='5501'] [data-testid=pitr-restored-stop]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Nothing was stopped.", cut.Find("[data-testid=pitr-restored-error]").TextContent));
        Assert.Contains("an Admin does it", cut.Markup);
    }

    [Fact]
    public void NoServer_SaysSo()
    {
        var cut = Render<PitrRestoredServersTable>(ps => ps.Add(p => p.Servers, []));

        Assert.Contains("No restore has left a server", cut.Find("[data-testid=pitr-restored-none]").TextContent);
    }
}
