using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Pitr;

public enum RestoredServerState
{
    /// <summary>The restore is still queued or replaying WAL.</summary>
    Restoring,
    Running,
    Stopped,
    /// <summary>The data directory is gone or no longer a PostgreSQL data directory (removed outside the console).</summary>
    Missing,
    /// <summary>Removed from the console: stopped and its directory deleted.</summary>
    Removed,
}

/// <summary>What pg_ctl and pg_isready say about a restored server right now, and the size of its directory.</summary>
public sealed record RestoredServerLiveState(RestoredServerState State, bool AcceptsConnections, long? SizeBytes, string Detail);

/// <summary>Reads a restored server's live state through the console's process runner (<c>pg_ctl status</c> as the
/// server's user, <c>pg_isready</c>), and tells whether anything the console connects to points at its port.</summary>
public sealed class RestoredServerInspector(
    IPgToolRunner runner,
    TargetService targets,
    ConsoleDatabaseGuard consoleDatabase,
    IOptionsMonitor<PitrOptions> options)
{
    public async Task<RestoredServerLiveState> InspectAsync(string dataDirectory, int port, CancellationToken ct)
    {
        var size = SizeOf(dataDirectory);
        if (!IsIntact(dataDirectory))
        {
            return new(RestoredServerState.Missing, false, size, Directory.Exists(dataDirectory)
                ? "The directory is no longer a PostgreSQL data directory (PG_VERSION or global/pg_control is gone)."
                : "The data directory is gone: it was deleted outside the console.");
        }

        var status = await runner.RunAsync(new PgToolInvocation("pg_ctl", ["status", "-D", dataDirectory]) { AsServerUser = true, NonZeroExitIsNormal = true }, ct);
        switch (status.ExitCode)
        {
            case 0:
                var accepts = await AcceptsConnectionsAsync(port, ct);
                var line = status.StandardOutputText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "server is running";
                return new(RestoredServerState.Running, accepts, size, line.Replace("pg_ctl: ", "", StringComparison.Ordinal)
                    + (accepts ? "" : $"; it does not accept connections on port {port}"));
            case 3:
                return new(RestoredServerState.Stopped, false, size, "no server is running");
            default:
                return new(RestoredServerState.Missing, false, size, $"pg_ctl cannot read the data directory: {status.ErrorSummary}");
        }
    }

    /// <summary>A data directory that can start: PostgreSQL's version file and control file are there.</summary>
    public static bool IsIntact(string dataDirectory) =>
        File.Exists(Path.Combine(dataDirectory, "PG_VERSION")) && File.Exists(Path.Combine(dataDirectory, "global", "pg_control"));

    /// <summary>Bytes under the directory; null when it is gone or cannot be read.</summary>
    public static long? SizeOf(string dataDirectory)
    {
        try
        {
            var info = new DirectoryInfo(dataDirectory);
            return info.Exists
                ? info.EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 }).Sum(f => f.Length)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Files come and go while the server runs (temporary files, WAL recycling): the size is a best effort.
            return null;
        }
    }

    /// <summary>Whether something already listens on the loopback <paramref name="port"/>.</summary>
    public static bool PortIsTaken(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>The ports of this machine the console connects to (its targets, its own database, the WAL streaming
    /// connection), each with who uses it, in words. A restored server on one of them must not be stopped or removed.</summary>
    public async Task<IReadOnlyDictionary<int, string>> LocalPortsInUseAsync(CancellationToken ct)
    {
        var used = new Dictionary<int, string>();
        void Add(int? port, string who) => used.TryAdd(port ?? 0, who);
        foreach (var target in await targets.ListAsync(ct))
        {
            Add(LocalPort(target.DisplayAddress), $"Target {target.Name}");
            if (target.Source != TargetConnectionSource.Unset)
            {
                Add(LocalPort(await ConnectionOfAsync(target.Id, ct)), $"Target {target.Name}");
            }
        }

        Add(LocalPort(consoleDatabase.Connection), "The console's own database");
        if (options.CurrentValue.ReplicationUrl is { Length: > 0 } url)
        {
            Add(LocalPort(Parse(url)), "The WAL streaming connection (HELLOJOHN_REPLICATION_URL)");
        }

        used.Remove(0);
        return used;
    }

    private async Task<NpgsqlConnectionStringBuilder?> ConnectionOfAsync(Guid target, CancellationToken ct)
    {
        try
        {
            return await targets.GetConnectionAsync(target, ct);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            // Unreadable: its display address (checked too) is all that is known of it.
            return null;
        }
    }

    private static NpgsqlConnectionStringBuilder? Parse(string value)
    {
        try
        {
            return PgConnection.Parse(value);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static int? LocalPort(NpgsqlConnectionStringBuilder? connection) =>
        connection?.Host is { } hosts && hosts.Split(',', StringSplitOptions.TrimEntries).Any(IsThisMachine) ? connection.Port : null;

    /// <summary>From a display address, <c>user@host:port/database</c>.</summary>
    private static int? LocalPort(string? displayAddress)
    {
        if (string.IsNullOrEmpty(displayAddress))
        {
            return null;
        }

        var hostAndPort = displayAddress[(displayAddress.LastIndexOf('@') + 1)..].Split('/')[0];
        var colon = hostAndPort.LastIndexOf(':');
        return colon > 0 && int.TryParse(hostAndPort[(colon + 1)..], CultureInfo.InvariantCulture, out var port) && IsThisMachine(hostAndPort[..colon]) ? port : null;
    }

    private static bool IsThisMachine(string host)
    {
        host = host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
            || string.Equals(host, Dns.GetHostName(), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken ct)
    {
        var ready = await runner.RunAsync(new PgToolInvocation("pg_isready", ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-t", "3"])
        {
            NonZeroExitIsNormal = true,
        }, ct);
        return ready.Succeeded;
    }
}
