using System.Diagnostics;
using System.Text;
using CliWrap;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Postgres;

/// <summary>One call of a PostgreSQL program. Arguments are a list (never a shell string); the password travels in a
/// 0600 passfile named by PGPASSFILE, never on the command line.</summary>
public sealed record PgToolInvocation(string Tool, IReadOnlyList<string> Arguments)
{
    /// <summary>Where to connect. Host, port, user and database go into PG* variables; the password into a passfile.</summary>
    public NpgsqlConnectionStringBuilder? Connection { get; init; }
    public Stream? StandardOutput { get; init; }
    public Stream? StandardInput { get; init; }
    /// <summary>Called for each line the program writes to stderr (pg_dump --verbose progress, errors).</summary>
    public Action<string>? OnStandardErrorLine { get; init; }
    /// <summary>Run as the PostgreSQL server's own user (initdb and pg_ctl refuse to run as root).</summary>
    public bool AsServerUser { get; init; }
    /// <summary>Extra variables, e.g. TZ. Never a secret.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    /// <summary>A non-zero exit is part of normal use (pg_waldump stops with 1 at the end of a segment still being
    /// written): logged at debug level, not as a warning.</summary>
    public bool NonZeroExitIsNormal { get; init; }
    /// <summary>Called with the process id once the program runs (a supervisor records it to report and signal it).</summary>
    public Action<int>? OnStarted { get; init; }
}

public sealed record PgToolResult(int ExitCode, string StandardError, string StandardOutputText, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The last meaningful stderr line, for an error message shown to people.</summary>
    public string ErrorSummary => StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("fatal", StringComparison.OrdinalIgnoreCase))
        ?? StandardError.Trim().Split('\n').LastOrDefault()?.Trim() ?? $"exit code {ExitCode}";
}

public interface IPgToolRunner
{
    PgBinaries Binaries { get; }

    /// <summary>Runs the tool to completion. A non-zero exit is returned, not thrown; cancellation kills the tool's
    /// process group (the workers it forked included), and the tool dies with the console.</summary>
    Task<PgToolResult> RunAsync(PgToolInvocation invocation, CancellationToken ct = default);
}

public sealed class PgToolRunner(PgBinaries binaries, ILogger<PgToolRunner> logger) : IPgToolRunner
{
    public const string ServerUser = "postgres";

    public PgBinaries Binaries => binaries;

    public static bool IsRoot => System.Environment.UserName == "root" || geteuid() == 0;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern uint geteuid();

    public async Task<PgToolResult> RunAsync(PgToolInvocation invocation, CancellationToken ct = default)
    {
        var toolPath = binaries.PathOf(invocation.Tool);
        string? passFile = null;
        var stderr = new StringBuilder();
        var stdoutText = new StringBuilder();
        var env = new Dictionary<string, string?>
        {
            // The child must not pick up a password or service file from the console's own environment.
            ["PGPASSWORD"] = null,
            ["PGSERVICEFILE"] = null,
            ["PGSERVICE"] = null,
            ["LC_MESSAGES"] = "C",
        };
        if (invocation.Environment is not null)
        {
            foreach (var (k, v) in invocation.Environment)
            {
                env[k] = v;
            }
        }

        try
        {
            if (invocation.Connection is { } c)
            {
                env["PGHOST"] = c.Host;
                env["PGPORT"] = c.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                env["PGUSER"] = c.Username;
                env["PGDATABASE"] = c.Database;
                env["PGSSLMODE"] = SslModeName(c.SslMode);
                env["PGCONNECT_TIMEOUT"] = Math.Max(2, c.Timeout).ToString(System.Globalization.CultureInfo.InvariantCulture);
                env["PGAPPNAME"] = "hellojohn-console";
                if (!string.IsNullOrEmpty(c.Password))
                {
                    passFile = WritePassFile(c, invocation.AsServerUser);
                    env["PGPASSFILE"] = passFile;
                }
            }

            var (program, args) = ChildProcesses.Command(toolPath, invocation.Arguments, invocation.AsServerUser);
            var command = Cli.Wrap(program)
                .WithArguments(args)
                .WithEnvironmentVariables(env)
                .WithValidation(CommandResultValidation.None)
                .WithStandardErrorPipe(PipeTarget.ToDelegate(line =>
                {
                    stderr.AppendLine(line);
                    invocation.OnStandardErrorLine?.Invoke(line);
                }))
                .WithStandardOutputPipe(invocation.StandardOutput is { } so ? PipeTarget.ToStream(so) : PipeTarget.ToStringBuilder(stdoutText));
            if (invocation.StandardInput is { } si)
            {
                command = command.WithStandardInputPipe(PipeSource.FromStream(si));
            }

            logger.LogDebug("Running {Tool} {Arguments}", invocation.Tool, string.Join(' ', invocation.Arguments));
            var watch = Stopwatch.StartNew();
            // CliWrap starts the process before ExecuteAsync returns, so it is started on the starter thread.
            var running = await ChildProcesses.StartAsync(() => command.ExecuteAsync(ct));
            invocation.OnStarted?.Invoke(running.ProcessId);
            CommandResult result;
            using (ct.Register(() => ChildProcesses.KillGroup(running.ProcessId)))
            {
                result = await running;
            }

            watch.Stop();
            if (result.ExitCode != 0 && !invocation.NonZeroExitIsNormal)
            {
                logger.LogWarning("{Tool} exited with {ExitCode}: {Error}", invocation.Tool, result.ExitCode, LastLines(stderr.ToString(), 5));
            }

            return new PgToolResult(result.ExitCode, stderr.ToString(), stdoutText.ToString(), watch.Elapsed);
        }
        finally
        {
            if (passFile is not null)
            {
                TryDelete(passFile);
            }
        }
    }

    private static string SslModeName(SslMode mode) => mode switch
    {
        SslMode.VerifyCA => "verify-ca",
        SslMode.VerifyFull => "verify-full",
        _ => mode.ToString().ToLowerInvariant(),
    };

    private static string WritePassFile(NpgsqlConnectionStringBuilder c, bool forServerUser)
    {
        static string Escape(string? s) => (s ?? "").Replace("\\", "\\\\").Replace(":", "\\:");
        var path = Path.Combine(Path.GetTempPath(), $"hjc-{Guid.NewGuid():N}.pgpass");
        // Created 0600 before the password is written, so it is never readable by others.
        using (var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream))
        {
            // Database '*' so that createdb/dropdb (which connect to a maintenance database) use it too.
            writer.Write($"{Escape(c.Host)}:{c.Port}:*:{Escape(c.Username)}:{Escape(c.Password)}\n");
        }

        if (forServerUser && IsRoot)
        {
            ChownToServerUser(path);
        }

        return path;
    }

    internal static void ChownToServerUser(string path) => ChildProcesses.GiveToServerUser(path);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover 0600 file in the temp folder is harmless; never fail the tool run for it.
        }
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));
}
