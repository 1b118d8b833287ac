using System.Text.RegularExpressions;
using System.Net;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Recovery;

[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class DatabaseHostFailureWizardTests(ConsoleServerFixture server)
{
    /// <summary>HelloJohn's /health on 127.0.0.1: answers 503 until the test turns it healthy.</summary>
    private sealed class HealthEndpoint : IDisposable
    {
        private readonly HttpListener _listener = new();
        private volatile bool _healthy;

        public HealthEndpoint()
        {
            var port = LocalPostgresCluster.FreeLoopbackPort();
            Url = $"http://127.0.0.1:{port}/health";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = ServeAsync();
        }

        public string Url { get; }

        public void BecomeHealthy() => _healthy = true;

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                context.Response.StatusCode = _healthy ? 200 : 503;
                context.Response.ContentType = "application/json";
                var body = System.Text.Encoding.UTF8.GetBytes(_healthy ? "{\"status\":\"Healthy\"}" : "{\"status\":\"Unhealthy\"}");
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }

    /// <summary>The "new server": a PostgreSQL cluster of its own (the old host is gone), with an empty database and
    /// a role of its own. The demo deployment is a set (control plane and tenants), so the wizard restores every
    /// database of the set there: the role may create the tenants' databases beside its own.</summary>
    private async Task<(LocalPostgresCluster Cluster, Npgsql.NpgsqlConnectionStringBuilder Connection)> NewHostAsync()
    {
        var runner = new PgToolRunner(PgBinaries.Locate(), NullLogger<PgToolRunner>.Instance);
        var cluster = await LocalPostgresCluster.StartAsync(Path.Combine(server.DataDirectory, $"newhost-{Guid.NewGuid():N}"[..16]), runner, deleteOnDispose: true);
        const string password = "New-Host-Pa55word";
        await cluster.EnsureDatabaseAsync("hellojohn_newhost", "newhost", password, canCreateDatabases: true);
        return (cluster, cluster.ConnectionFor("hellojohn_newhost", "newhost", password));
    }

    [Fact]
    public async Task DatabaseHostFailure_WalkedInChromium_RestoresVerifiesAndEndsWithRpoAndRto()
    {
        using var health = new HealthEndpoint();
        var (newCluster, newHost) = await NewHostAsync();
        await using var stopNewHost = newCluster;
        var page = await server.NewPageAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = server.BaseUrl });
        var app = new ConsoleApp(page);
        var wizard = new RecoveryWizardPage(page);
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);

        // A backup to restore.
        await app.OpenAsync("Backups");
        await app.BackUpNowAndWaitAsync();

        await app.OpenAsync("Recovery");
        await server.ScreenshotAsync(page, "recovery-00-start");
        await wizard.StartAsync("Database host failure");

        await wizard.OnStepAsync("new-server");
        await server.ScreenshotAsync(page, "recovery-01-new-server");
        await wizard.FillAsync("New database connection", newHost.ToUrl(includePassword: true));
        await wizard.PressAsync("Check");
        await wizard.WaitPassedAsync("new-server");
        await Assertions.Expect(page.GetByTestId("stepper-new-server")).ToContainTextAsync("passed");

        await wizard.OnStepAsync("choose-backup");
        await server.ScreenshotAsync(page, "recovery-02-choose-backup");
        await wizard.PressAsync("Check");
        await wizard.WaitPassedAsync("choose-backup");

        await wizard.OnStepAsync("restore");
        await server.ScreenshotAsync(page, "recovery-03-restore");
        await wizard.PressAsync("Restore now");
        await wizard.WaitPassedAsync("restore");
        // The page moved on to the next step; the restore's own log is one click back.
        await wizard.StepperItem("restore").ClickAsync();
        await Assertions.Expect(wizard.Log).ToContainTextAsync("matches the manifest");
        await Assertions.Expect(wizard.Log).ToContainTextAsync(new Regex("pg_restore of \\S+ finished"));
        await server.ScreenshotAsync(page, "recovery-03b-restore-log");

        await wizard.StepperItem("verify").ClickAsync();
        await wizard.OnStepAsync("verify");
        await server.ScreenshotAsync(page, "recovery-04-verify");
        await wizard.PressAsync("Run check");
        await wizard.WaitPassedAsync("verify");

        // A second engineer opens the run by its address in another browser and sees the same state.
        var otherPage = await server.NewPageAsync();
        await new ConsoleApp(otherPage).SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        var other = new RecoveryWizardPage(otherPage);
        await other.OpenRunAsync(page.Url);
        await other.WaitPassedAsync("verify");
        await other.OnStepAsync("deploy-url");

        await wizard.OnStepAsync("deploy-url");
        var command = wizard.StepView.GetByTestId("wizard-command").First;
        await Assertions.Expect(command).ToContainTextAsync("postgres://newhost:••••••••@127.0.0.1");
        await Assertions.Expect(page.Locator("body")).Not.ToContainTextAsync("New-Host-Pa55word");
        await server.ScreenshotAsync(page, "recovery-05-deploy-url");
        await command.GetByRole(AriaRole.Button).ClickAsync();
        await Assertions.Expect(page.GetByText("Copied, with the password.")).ToBeVisibleAsync();
        Assert.Contains("New-Host-Pa55word", await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await wizard.PressAsync("Mark done");
        await wizard.WaitPassedAsync("deploy-url");

        await wizard.OnStepAsync("restart");
        await server.ScreenshotAsync(page, "recovery-06-restart");
        await wizard.PressAsync("Mark done");
        await wizard.WaitPassedAsync("restart");

        await wizard.OnStepAsync("health");
        await wizard.FillAsync("Health URL", health.Url);
        await wizard.PressAsync("Run check");
        await Assertions.Expect(wizard.Log).ToContainTextAsync("HTTP 503", new() { Timeout = 60_000 });
        await server.ScreenshotAsync(page, "recovery-07-health-waiting");
        health.BecomeHealthy();
        await wizard.WaitPassedAsync("health");
        await Assertions.Expect(wizard.RunStatus).ToHaveTextAsync("completed");
        await Assertions.Expect(page.GetByTestId("run-progress")).ToHaveTextAsync("7 / 7 steps");
        await Assertions.Expect(page.GetByTestId("run-rto")).Not.ToContainTextAsync("so far");
        await server.ScreenshotAsync(page, "recovery-08-done");
        await Assertions.Expect(other.RunStatus).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        await server.ScreenshotAsync(otherPage, "recovery-08b-done-second-browser");

        await app.OpenAsync("Recovery");
        var history = page.GetByTestId("recovery-history");
        await Assertions.Expect(history.GetByTestId("run-status").First).ToHaveTextAsync("completed");
        await Assertions.Expect(history.GetByTestId("run-rto").First).Not.ToHaveTextAsync("—");
        await server.ScreenshotAsync(page, "recovery-09-history");
    }
}
