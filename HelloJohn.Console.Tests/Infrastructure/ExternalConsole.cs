using System.Diagnostics;
using System.Text;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Postgres;

namespace HelloJohn.Console.Tests.Infrastructure;

/// <summary>A second console instance in a process of its own, sharing the console database, the key ring certificate
/// and the backup folder of <paramref name="sharing"/>: what another host running the console is. It runs the jobs
/// the test's own console leaves to it, and can be killed like a crashed host (SIGKILL, nothing runs on the way out).</summary>
public sealed class ExternalConsole(ConsoleAppFactory sharing, string targetConnection) : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("Not started.");

    /// <summary>This console's own data folder (the other host's disk).</summary>
    public string DataDirectory => Path.Combine(sharing.DataDirectory, "external");

    /// <summary>Settings added to (or replacing) the defaults, as environment variables: <c>Pitr__Enabled</c>, …</summary>
    public Dictionary<string, string> Settings { get; } = [];

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public async Task StartAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "HelloJohn.Console.Web.dll");
        var port = LocalPostgresCluster.FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("HELLOJOHN_", StringComparison.Ordinal) || k.Contains("__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ConnectionStrings__Console"] = sharing.ConsoleDatabase.ConnectionString;
        start.Environment["HELLOJOHN_DATABASE_URL"] = targetConnection;
        start.Environment["HELLOJOHN_TARGET_NAME"] = "test";
        start.Environment["HELLOJOHN_CONSOLE_ADMIN_EMAIL"] = ConsoleAppFactory.AdminEmail;
        start.Environment["HELLOJOHN_CONSOLE_ADMIN_PASSWORD"] = ConsoleAppFactory.AdminPassword;
        start.Environment["Console__DataDirectory"] = DataDirectory;
        start.Environment[KeyRingProtector.SettingName.Replace(":", "__", StringComparison.Ordinal)] = Path.Combine(sharing.DataDirectory, KeyRingProtector.DefaultFileName);
        start.Environment["Storage__Local__Directory"] = sharing.BackupDirectory;
        start.Environment["Backups__ProgressInterval"] = "00:00:00.200";
        start.Environment["Runs__HeartbeatInterval"] = "00:00:00.500";
        foreach (var (key, value) in Settings)
        {
            start.Environment[key] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("The second console did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var deadline = DateTime.UtcNow.AddMinutes(2); ; await Task.Delay(250))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The second console stopped while starting:\n" + Output);
            }

            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/health");
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (DateTime.UtcNow < deadline)
            {
                // Busy starting.
            }
        }
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds. A hang guard, not a timing assertion: what it waits for
    /// is bounded by the keepalive and one sweep.</summary>
    public async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not come true within 2 minutes. The other console said:\n" + Output);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Kills the console as a crash or a lost host would: SIGKILL, no shutdown of any kind.</summary>
    public void Kill()
    {
        _process!.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    /// <summary>The PostgreSQL tools this console started that are alive (not zombies): (pid, program).</summary>
    public IReadOnlyList<(int Pid, string Program)> ToolProcesses(params string[] programs) =>
        [.. LiveProcesses().Where(p => p.ParentPid == ProcessId && programs.Contains(p.Program)).Select(p => (p.Pid, p.Program))];

    /// <summary>Whether the process <paramref name="pid"/> still runs (a zombie waiting for its parent does not).</summary>
    public static bool IsAlive(int pid) => LiveProcesses().Any(p => p.Pid == pid);

    private static IEnumerable<(int Pid, string Program, char State, int ParentPid)> LiveProcesses()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // "pid (comm) state ppid ..."; comm may hold spaces, so read around the last ')'.
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            var rest = stat[(close + 2)..].Split(' ');
            if (rest[0][0] is 'Z' or 'X')
            {
                continue;
            }

            yield return (pid, stat[(open + 1)..close], rest[0][0], int.Parse(rest[1], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
