using System.Diagnostics;
using System.Globalization;
using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Pitr;

/// <summary>An administrator restores the embedded demo server to a time, finds the server the restore left running in
/// the Restored servers list, stops it, and removes it with the directory's name typed: its data directory is gone.</summary>
[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class RestoredServersFlowTests(ConsoleServerFixture server)
{
    private static readonly LocatorAssertionsToContainTextOptions Slow = new() { Timeout = 240_000 };

    [Fact]
    public async Task RestoreToATime_ThenStopAndRemoveTheRestoredServer()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        var page = app.Page;
        await page.SetViewportSizeAsync(1280, 800);
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Point-in-time");
        await Assertions.Expect(page.GetByTestId("pitr-current-window")).ToContainTextAsync("→", Slow);

        var directory = Path.Combine("/var/tmp", $"hjc-e2e-restored-{Guid.NewGuid():N}"[..30]);
        var name = Path.GetFileName(directory);
        try
        {
            await RequestRestoreAsync(page, directory);
            var row = page.GetByTestId("pitr-restored-server-row").Filter(new() { HasText = directory });
            await Assertions.Expect(row.GetByTestId("pitr-restored-state")).ToContainTextAsync("accepts connections", Slow);
            await Assertions.Expect(row).ToContainTextAsync("paused at the target, read only");
            await Assertions.Expect(row).ToContainTextAsync(ConsoleServerFixture.AdminEmail);
            await page.GetByTestId("pitr-restored-servers").ScrollIntoViewIfNeededAsync();
            await page.ScreenshotAsync(new() { Path = Path.Combine(server.ScreenshotDirectory, "pitr-restored-servers.png") });

            // The Dashboard does not let it be forgotten.
            await app.OpenAsync("Dashboard");
            await Assertions.Expect(page.GetByTestId("pitr-card-restored")).ToContainTextAsync("1 restored server kept (1 running");
            await app.OpenAsync("Point-in-time");

            await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("pitr-restored-message")).ToContainTextAsync("stopped (fast shutdown)");
            await Assertions.Expect(row.GetByTestId("pitr-restored-state")).ToContainTextAsync("stopped");
            await Assertions.Expect(row.GetByRole(AriaRole.Button, new() { Name = "Start" })).ToBeVisibleAsync();
            Assert.True(Directory.Exists(directory));

            // Remove stays disabled until the directory's name is typed exactly.
            await row.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
            var input = page.Locator("input[data-testid=delete-confirmation-input]");
            await input.FillAsync(name[..^1]);
            await Assertions.Expect(page.GetByTestId("delete-restored-server-confirm")).ToBeDisabledAsync();
            await input.FillAsync(name);
            await Assertions.Expect(page.GetByTestId("delete-restored-server-confirm")).ToBeEnabledAsync();
            await page.GetByTestId("delete-restored-server-panel").ScrollIntoViewIfNeededAsync();
            await page.ScreenshotAsync(new() { Path = Path.Combine(server.ScreenshotDirectory, "pitr-restored-server-remove.png") });
            await page.GetByTestId("delete-restored-server-confirm").ClickAsync();

            await Assertions.Expect(page.GetByTestId("pitr-restored-message")).ToContainTextAsync("removed: its data directory was deleted");
            await Assertions.Expect(row.GetByTestId("pitr-restored-state")).ToContainTextAsync("removed");
            await Assertions.Expect(row.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
            Assert.False(Directory.Exists(directory));
            await server.ScreenshotAsync(page, "pitr-restored-server-removed");

            await app.NavigationLink("Audit").ClickAsync();
            await Assertions.Expect(page.GetByText("pitr.restored_server_removed").First).ToBeVisibleAsync();
        }
        finally
        {
            StopAndDelete(directory);
        }
    }

    /// <summary>Asks for a restore to a few seconds ago, again while that time is still past the newest commit the
    /// console holds (the window is a few seconds behind the clock), until it is queued.</summary>
    private static async Task RequestRestoreAsync(IPage page, string directory)
    {
        await page.GetByLabel("Time zone of that time").FillAsync("UTC");
        await page.GetByLabel("New data directory").FillAsync(directory);
        var queued = page.GetByTestId("pitr-restore-row").Filter(new() { HasText = directory });
        for (var attempt = 0; ; attempt++)
        {
            var time = DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            await page.GetByLabel("Restore to (date and time)").FillAsync(time);
            await page.GetByTestId("pitr-restore-submit").ClickAsync();
            var refused = page.GetByTestId("pitr-refusal").Filter(new() { HasText = time });
            await queued.Or(refused).First.WaitForAsync(new() { Timeout = 60_000 });
            if (await queued.CountAsync() > 0)
            {
                return;
            }

            var reason = await refused.TextContentAsync();
            if (attempt >= 30 || reason?.Contains("after the newest commit", StringComparison.Ordinal) != true)
            {
                throw new InvalidOperationException($"The restore was refused: {reason}");
            }

            await Task.Delay(3000);
        }
    }

    /// <summary>Whatever the flow left: a restored server still running is stopped, its directory deleted.</summary>
    private static void StopAndDelete(string directory)
    {
        var pidFile = Path.Combine(directory, "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), out var pid))
        {
            Process.Start("kill", ["-INT", pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            for (var i = 0; i < 60 && File.Exists(pidFile); i++)
            {
                Thread.Sleep(500);
            }
        }

        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
