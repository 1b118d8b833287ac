using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Infrastructure;

/// <summary>The real console, started as its own process on the embedded default (its own PostgreSQL cluster and demo
/// HelloJohn database in a temporary data folder), and a headless Chromium from the machine's packages.</summary>
public sealed class ConsoleServerFixture : IAsyncLifetime
{
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "E2e-Admin-Pa55word!";
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly StringBuilder _output = new();
    private Process? _server;
    private IPlaywright? _playwright;

    public string BaseUrl { get; private set; } = "";
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"hjc-e2e-{Guid.NewGuid():N}"[..20]);
    public IBrowser Browser { get; private set; } = default!;
    public string ScreenshotDirectory { get; } = Path.Combine(RepositoryRoot(), "e2e", "screenshots");
    public string ServerOutput { get { lock (_output) { return _output.ToString(); } } }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        var webDir = Path.Combine(RepositoryRoot(), "HelloJohn.Console.Web");
        // HJC_E2E_CONSOLE_DLL runs the flows against another build, e.g. a published Release folder (its own content root).
        var published = Environment.GetEnvironmentVariable("HJC_E2E_CONSOLE_DLL");
        var dll = !string.IsNullOrEmpty(published) ? Path.GetFullPath(published)
            : Directory.GetFiles(Path.Combine(webDir, "bin"), "HelloJohn.Console.Web.dll", SearchOption.AllDirectories)
                .Select(f => new FileInfo(f)).OrderByDescending(f => f.LastWriteTimeUtc).First().FullName;

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = !string.IsNullOrEmpty(published) ? Path.GetDirectoryName(dll)! : webDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No database configuration at all: the console must bring up its embedded default by itself.
        start.Environment.Remove("HELLOJOHN_DATABASE_URL");
        start.Environment.Remove("ConnectionStrings__Console");
        // As users run it (./run.sh and the container): Production, where the framework's scripts and styles must be
        // served without Development's static web assets and every page must still become interactive.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = BaseUrl;
        start.Environment["HELLOJOHN_CONSOLE_DATA"] = DataDirectory;
        start.Environment["HELLOJOHN_CONSOLE_ADMIN_EMAIL"] = AdminEmail;
        start.Environment["HELLOJOHN_CONSOLE_ADMIN_PASSWORD"] = AdminPassword;
        _server = Process.Start(start)!;
        _server.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _server.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        await WaitUntilHealthyAsync();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A new browser context (its own cookies) with a page, at a desktop size.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(60_000);
        return await context.NewPageAsync();
    }

    public Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    private async Task WaitUntilHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            if (_server!.HasExited)
            {
                throw new InvalidOperationException($"The console exited with code {_server.ExitCode} before it answered:\n{ServerOutput}");
            }

            try
            {
                var response = await http.GetAsync(BaseUrl + "/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Still starting.
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"The console did not become healthy within 3 minutes:\n{ServerOutput}");
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_server is { HasExited: false })
        {
            // SIGTERM lets the console stop its embedded PostgreSQL cluster on the way out.
            Process.Start("kill", ["-TERM", _server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!_server.WaitForExit(30_000))
            {
                _server.Kill(entireProcessTree: true);
            }
        }

        StopLeftoverCluster();
        // The console's own log, kept beside the screenshots for reading after a failed run.
        await File.WriteAllTextAsync(Path.Combine(ScreenshotDirectory, "console-server.log"), ServerOutput);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying process; the temp folder is cleaned by the system.
        }
    }

    private void StopLeftoverCluster()
    {
        var pgdata = Directory.Exists(DataDirectory) ? Directory.GetDirectories(DataDirectory, "pgdata", SearchOption.AllDirectories).FirstOrDefault() : null;
        var pidFile = pgdata is null ? null : Path.Combine(pgdata, "postmaster.pid");
        if (pidFile is not null && File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), out var pid))
        {
            Process.Start("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HelloJohn.Console.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (HelloJohn.Console.sln) was not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleServerCollection : ICollectionFixture<ConsoleServerFixture>
{
    public const string Name = "console-server";
}
