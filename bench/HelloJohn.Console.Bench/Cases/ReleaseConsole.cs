using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using HelloJohn.Console.Bench.Measurement;
using Microsoft.Playwright;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>The console as people run it: the Release build of HelloJohn.Console.Web in Production, a process of its
/// own, driven through its pages in headless Chromium. Each case is timed from the click to the page saying it is done.</summary>
public sealed partial class ReleaseConsole : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private const string AdminEmail = "bench@example.test";

    private readonly StringBuilder _output = new();
    private readonly string _adminPassword = "Bench-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)) + "!";
    private readonly NpgsqlConnectionStringBuilder _consoleDb;
    private Process? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private IPage? _page;

    private ReleaseConsole(NpgsqlConnectionStringBuilder consoleDb) => _consoleDb = consoleDb;

    /// <summary>The published Release build's entry assembly (<c>dotnet publish -c Release HelloJohn.Console.Web</c>, as the
    /// Dockerfile builds it), next to this benchmark in the repository.</summary>
    public static string? FindWebAssembly(string repositoryRoot)
    {
        var path = Path.Combine(repositoryRoot, "HelloJohn.Console.Web", "bin", "Release", "net10.0", "publish", "HelloJohn.Console.Web.dll");
        return File.Exists(path) ? path : null;
    }

    public static async Task<ReleaseConsole> StartAsync(string webAssembly, NpgsqlConnectionStringBuilder consoleDb, NpgsqlConnectionStringBuilder target,
        string dataDirectory, TextWriter log, CancellationToken ct)
    {
        var console = new ReleaseConsole(consoleDb);
        try
        {
            await console.StartServerAsync(webAssembly, target, dataDirectory, log, ct);
            await console.SignInAsync();
            return console;
        }
        catch
        {
            await console.DisposeAsync();
            throw;
        }
    }

    private async Task StartServerAsync(string webAssembly, NpgsqlConnectionStringBuilder target, string dataDirectory, TextWriter log, CancellationToken ct)
    {
        var port = Core.Postgres.LocalPostgresCluster.FreeLoopbackPort();
        var baseUrl = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var start = new ProcessStartInfo("dotnet", [webAssembly])
        {
            // The published folder is the content root: wwwroot with the framework's and MudBlazor's assets.
            WorkingDirectory = Path.GetDirectoryName(webAssembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = baseUrl;
        start.Environment["ConnectionStrings__Console"] = _consoleDb.ConnectionString;
        start.Environment["HELLOJOHN_DATABASE_URL"] = target.ConnectionString;
        start.Environment["HELLOJOHN_TARGET_NAME"] = "bench";
        start.Environment["HELLOJOHN_CONSOLE_DATA"] = dataDirectory;
        start.Environment["HELLOJOHN_CONSOLE_ADMIN_EMAIL"] = AdminEmail;
        start.Environment["HELLOJOHN_CONSOLE_ADMIN_PASSWORD"] = _adminPassword;
        await log.WriteLineAsync($"Starting the Release console ({webAssembly}) on {baseUrl}…");
        _server = Process.Start(start)!;
        _server.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _server.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"The Release console exited with code {_server.ExitCode} before it answered:\n{Output}");
            }

            try
            {
                if ((await http.GetAsync(baseUrl + "/health", ct)).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Still starting.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The Release console did not answer within 5 minutes:\n{Output}");
            }

            await Task.Delay(250, ct);
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(60_000);
        _page = await context.NewPageAsync();
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private IPage Page => _page ?? throw new InvalidOperationException("The console has not started.");

    private async Task SignInAsync()
    {
        await Page.GotoAsync("/signin");
        await Page.GetByLabel("Email").FillAsync(AdminEmail);
        await Page.GetByLabel("Password").FillAsync(_adminPassword);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Page.WaitForURLAsync(url => !url.Contains("/signin", StringComparison.Ordinal));
        await LiveAsync();
    }

    private Task LiveAsync() => Page.GetByTestId("circuit-live").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    private Task OpenAsync(string menuLabel) =>
        Page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = menuLabel, Exact = true }).ClickAsync();

    /// <summary>Backups → Back up now, until the set it queued says succeeded (a deployment's backup run is a set, here
    /// of the one database); returns the database's backup file in that set.</summary>
    public async Task<(RunSample Sample, string FileName)> BackUpNowAsync(ClusterCpu serverCpu)
    {
        await OpenAsync("Backups");
        await LiveAsync();
        var button = Page.GetByRole(AriaRole.Button, new() { Name = "Back up now" });
        await Assertions.Expect(button).ToBeEnabledAsync();
        var announced = Page.GetByText(QueuedSet());
        return await MeasureAsync(serverCpu, async () =>
        {
            while (true)
            {
                await button.ClickAsync();
                try
                {
                    await Assertions.Expect(announced).ToBeVisibleAsync(new() { Timeout = 5_000 });
                    break;
                }
                catch (PlaywrightException)
                {
                    // The click landed while the page was attaching.
                }
            }

            var set = QueuedSet().Match((await announced.First.TextContentAsync())!).Groups[1].Value;
            var row = Page.GetByTestId("sets-grid").Locator("tbody tr").Filter(new() { HasText = set });
            await Assertions.Expect(row.GetByTestId("set-status")).ToHaveTextAsync("succeeded", new() { Timeout = 1_800_000 });
            await row.GetByRole(AriaRole.Button).First.ClickAsync();
            var member = Page.GetByTestId("set-member").First;
            await Assertions.Expect(member).ToBeVisibleAsync();
            return (await member.Locator("code").First.TextContentAsync())!.Trim();
        });
    }

    /// <summary>Verification → pick the backup → Verify now, until the newest run says passed.</summary>
    public async Task<RunSample> VerifyAsync(string fileName, ClusterCpu serverCpu)
    {
        await OpenAsync("Verification");
        var picker = Page.GetByLabel("Backup to verify");
        await Assertions.Expect(picker).ToBeEnabledAsync(new() { Timeout = 60_000 });
        await Page.Locator("div.mud-select").Filter(new() { Has = picker }).Last.ClickAsync();
        await Page.Locator(".mud-popover-open").GetByText(fileName).ClickAsync();
        var rows = Page.GetByTestId("verifications-grid").Locator("tbody tr").Filter(new() { Has = Page.GetByTestId("verification-status") });
        var status = rows.First.GetByTestId("verification-status");
        // The grid lists the newest run first; until the new run's row is there, the first row is the previous run's. The
        // catalog says how many rows there are before (the grid may still be loading them).
        long before;
        await using (var conn = new NpgsqlConnection(_consoleDb.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM verification_runs", conn);
            before = (long)(await cmd.ExecuteScalarAsync())!;
        }

        var (sample, _) = await MeasureAsync(serverCpu, async () =>
        {
            await Page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync((int)before + 1, new() { Timeout = 60_000 });
            await Assertions.Expect(status).ToHaveTextAsync(Finished(), new() { Timeout = 1_800_000 });
            var result = (await status.TextContentAsync())!.Trim();
            return result == "passed" ? result : throw new InvalidOperationException($"The Release console's verification of {fileName} ended {result}; the figures are not valid.");
        });
        return sample;
    }

    /// <summary>Restores → Restore a backup… (the backup chosen) → into a new database under the name the dialog offers,
    /// until its row says succeeded. Returns the database's name, for the caller to drop.</summary>
    public async Task<(RunSample Sample, string Database)> RestoreAsync(string fileName, ClusterCpu serverCpu)
    {
        Guid backupId;
        await using (var conn = new NpgsqlConnection(_consoleDb.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT \"Id\" FROM backups WHERE \"FileName\" = $1", conn) { Parameters = { new() { Value = fileName } } };
            backupId = (Guid)(await cmd.ExecuteScalarAsync())!;
        }

        await Page.GotoAsync($"/restores?backup={backupId}");
        await LiveAsync();
        // The name the dialog offers, as a person in a hurry takes it (typing races the dialog's debounced name check).
        var database = await Page.GetByLabel("New database name").InputValueAsync();
        var submit = Page.GetByTestId("restore-submit");
        await Assertions.Expect(submit).ToBeEnabledAsync();
        // The dialog offers the same name again once the previous repetition's database was dropped: the grid then has
        // a row of that name already, and the new run's row (listed first) is the one to watch.
        var rows = Page.GetByTestId("restores-grid").Locator("tbody tr").Filter(new() { HasText = database });
        var status = rows.First.GetByTestId("restore-status");
        long before;
        await using (var conn = new NpgsqlConnection(_consoleDb.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM restore_runs WHERE \"DatabaseName\" = $1", conn) { Parameters = { new() { Value = database } } };
            before = (long)(await cmd.ExecuteScalarAsync())!;
        }

        var (sample, _) = await MeasureAsync(serverCpu, async () =>
        {
            await submit.ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync((int)before + 1, new() { Timeout = 60_000 });
            await Assertions.Expect(status).ToHaveTextAsync(RestoreFinished(), new() { Timeout = 1_800_000 });
            var result = (await status.TextContentAsync())!.Trim();
            return result == "succeeded" ? result : throw new InvalidOperationException($"The Release console's restore of {fileName} ended {result}; the figures are not valid.");
        });
        return (sample, database);
    }

    /// <summary>Wall time, the console process's CPU (with the pg_dump or pg_restore it waited for) and peak RSS, and
    /// the target server's CPU, around one action.</summary>
    private async Task<(RunSample, T)> MeasureAsync<T>(ClusterCpu serverCpu, Func<Task<T>> action)
    {
        var pid = _server!.Id;
        await File.WriteAllTextAsync($"/proc/{pid}/clear_refs", "5");
        var cpu = ClusterCpu.OfProcess(pid);
        var server = serverCpu.Total();
        var clock = Stopwatch.StartNew();
        var result = await action();
        clock.Stop();
        var peak = ProcessResources.StatusKilobytes($"/proc/{pid}/status", "VmHWM") * 1024;
        return (new RunSample(clock.Elapsed, ClusterCpu.OfProcess(pid) - cpu, ConsolePeakRssBytes: peak, ServerCpu: serverCpu.Total() - server), result);
    }

    [GeneratedRegex(@"Set (hellojohn_set_\S+) queued\.")]
    private static partial Regex QueuedSet();

    [GeneratedRegex("^(passed|failed|cancelled)$")]
    private static partial Regex Finished();

    [GeneratedRegex("^(succeeded|failed|cancelled)$")]
    private static partial Regex RestoreFinished();

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_server is { HasExited: false })
        {
            // SIGTERM: the console stops its scratch cluster on the way out.
            Process.Start("kill", ["-TERM", _server.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!_server.WaitForExit(60_000))
            {
                _server.Kill(entireProcessTree: true);
            }
        }

        _server?.Dispose();
    }
}
