using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace HelloJohn.Console.Core.Postgres;

/// <summary>A private PostgreSQL cluster in a folder of its own, listening on a free loopback port only. The embedded
/// default runs on one; the tests start one each. Its superuser password is generated and kept 0600 beside the data.</summary>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    private const string StateFileName = "cluster.json";
    private readonly IPgToolRunner _runner;
    private readonly ILogger _logger;
    private readonly bool _deleteOnDispose;

    private LocalPostgresCluster(string root, string dataDirectory, int port, string password, IPgToolRunner runner, ILogger logger, bool deleteOnDispose)
    {
        Root = root;
        DataDirectory = dataDirectory;
        Port = port;
        SuperuserPassword = password;
        _runner = runner;
        _logger = logger;
        _deleteOnDispose = deleteOnDispose;
    }

    public string Root { get; }
    public string DataDirectory { get; }
    public int Port { get; }
    public string Superuser => "postgres";
    internal string SuperuserPassword { get; }

    public NpgsqlConnectionStringBuilder ConnectionFor(string database, string? user = null, string? password = null) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Database = database,
        Username = user ?? Superuser,
        Password = password ?? SuperuserPassword,
        // Local cluster: no pooling surprises when databases are dropped under us.
        Pooling = true,
        Timeout = 15,
    };

    /// <summary>Starts the cluster kept in <paramref name="root"/>, creating it on first use. A cluster left running
    /// by an earlier process that died is reused.</summary>
    public static async Task<LocalPostgresCluster> StartAsync(string root, IPgToolRunner runner, ILogger? logger = null, bool deleteOnDispose = false, CancellationToken ct = default) =>
        await StartAsync(root, runner, new Dictionary<string, string>(), logger, deleteOnDispose, ct);

    /// <summary>As above, with server settings given at start (<c>-c name=value</c>), e.g. <c>wal_level</c>.</summary>
    public static async Task<LocalPostgresCluster> StartAsync(string root, IPgToolRunner runner, IReadOnlyDictionary<string, string> settings, ILogger? logger = null, bool deleteOnDispose = false, CancellationToken ct = default)
    {
        logger ??= NullLogger.Instance;
        if (!runner.Binaries.HasServer)
        {
            throw new PgToolsNotFoundException(
                $"The embedded default needs PostgreSQL's server programs (initdb, pg_ctl), which are not in {runner.Binaries.Directory}. " +
                "Install them (apt-get install postgresql), or set HELLOJOHN_DATABASE_URL and ConnectionStrings__Console to use existing servers.");
        }

        root = Path.GetFullPath(root);
        if (PgToolRunner.IsRoot && !await ServerUserCanReachAsync(root, runner, ct))
        {
            // initdb and postgres must run as the 'postgres' user, who cannot enter folders such as /root.
            var moved = Path.Combine("/var/tmp/hellojohn-console", Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..16]);
            logger.LogInformation("The '{User}' user cannot reach {Root}; keeping the local PostgreSQL cluster in {Moved} instead", PgToolRunner.ServerUser, root, moved);
            root = moved;
        }

        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var dataDirectory = Path.Combine(root, "pgdata");
        var statePath = Path.Combine(root, StateFileName);
        var state = File.Exists(statePath) ? JsonSerializer.Deserialize<ClusterState>(await File.ReadAllTextAsync(statePath, ct)) : null;

        if (state is null || !File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }

            state = new ClusterState(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('/', '_').Replace('+', '-'), 0);
            await InitDbAsync(root, dataDirectory, state.Password, runner, ct);
            await WriteStateAsync(statePath, state, ct);
        }

        var running = RunningPort(dataDirectory);
        int port;
        if (running is { } p && await AcceptsConnectionsAsync(p, state.Password, ct))
        {
            logger.LogInformation("Reusing the local PostgreSQL cluster already running on port {Port}", p);
            port = p;
        }
        else
        {
            port = FreeLoopbackPort();
            var logFile = Path.Combine(dataDirectory, "server.log");
            var result = await runner.RunAsync(new PgToolInvocation("pg_ctl",
            [
                "-D", dataDirectory, "-l", logFile, "-w", "-t", "60",
                "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=on -c max_connections=200{string.Concat(settings.Select(kv => $" -c {kv.Key}={kv.Value}"))}",
                "start",
            ]) { AsServerUser = true }, ct);
            if (!result.Succeeded)
            {
                var tail = File.Exists(logFile) ? string.Join('\n', File.ReadLines(logFile).TakeLast(10)) : "";
                throw new InvalidOperationException($"The local PostgreSQL cluster in {dataDirectory} did not start: {result.ErrorSummary}\n{tail}");
            }

            logger.LogInformation("Started the local PostgreSQL cluster in {DataDirectory} on 127.0.0.1:{Port}", dataDirectory, port);
        }

        await WriteStateAsync(statePath, state with { Port = port }, ct);
        return new LocalPostgresCluster(root, dataDirectory, port, state.Password, runner, logger, deleteOnDispose);
    }

    /// <summary>Creates a login role and a database it owns, if they do not exist yet.</summary>
    public async Task EnsureDatabaseAsync(string database, string owner, string ownerPassword, bool canCreateDatabases, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(ConnectionFor("postgres").ConnectionString);
        await conn.OpenAsync(ct);
        await using (var cmd = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", conn) { Parameters = { new() { Value = owner } } })
        {
            var exists = await cmd.ExecuteScalarAsync(ct) is not null;
            var options = canCreateDatabases ? "LOGIN CREATEDB" : "LOGIN";
            // Passwords cannot be bound as parameters in DDL; the literal is escaped by doubling quotes.
            var sql = exists
                ? $"ALTER ROLE {QuoteIdent(owner)} WITH {options} PASSWORD {QuoteLiteral(ownerPassword)}"
                : $"CREATE ROLE {QuoteIdent(owner)} WITH {options} PASSWORD {QuoteLiteral(ownerPassword)}";
            await using var ddl = new NpgsqlCommand(sql, conn);
            await ddl.ExecuteNonQueryAsync(ct);
        }

        await using (var cmd = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = database } } })
        {
            if (await cmd.ExecuteScalarAsync(ct) is null)
            {
                await using var ddl = new NpgsqlCommand($"CREATE DATABASE {QuoteIdent(database)} OWNER {QuoteIdent(owner)}", conn);
                await ddl.ExecuteNonQueryAsync(ct);
            }
        }
    }

    public async Task StopAsync(CancellationToken ct = default)
    {
        NpgsqlConnection.ClearAllPools();
        var result = await _runner.RunAsync(new PgToolInvocation("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "stop"]) { AsServerUser = true }, ct);
        if (!result.Succeeded)
        {
            _logger.LogWarning("Stopping the local PostgreSQL cluster failed: {Error}", result.ErrorSummary);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_deleteOnDispose)
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException e)
            {
                _logger.LogWarning("Could not remove {Root}: {Message}", Root, e.Message);
            }
        }
    }

    public static string QuoteIdent(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public static string QuoteLiteral(string value) => "'" + value.Replace("'", "''") + "'";

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task InitDbAsync(string root, string dataDirectory, string password, IPgToolRunner runner, CancellationToken ct)
    {
        Directory.CreateDirectory(dataDirectory);
        var pwFile = Path.Combine(root, "initdb.pw");
        await File.WriteAllTextAsync(pwFile, "", ct);
        File.SetUnixFileMode(pwFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(pwFile, password + "\n", ct);
        try
        {
            if (PgToolRunner.IsRoot)
            {
                PgToolRunner.ChownToServerUser(dataDirectory);
                PgToolRunner.ChownToServerUser(pwFile);
            }

            var result = await runner.RunAsync(new PgToolInvocation("initdb",
            [
                "-D", dataDirectory, "-U", "postgres", "--pwfile", pwFile, "--auth", "scram-sha-256",
                "-E", "UTF8", "--locale", "C", "--no-instructions",
            ]) { AsServerUser = true }, ct);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"initdb failed in {dataDirectory}: {result.ErrorSummary}");
            }
        }
        finally
        {
            File.Delete(pwFile);
        }
    }

    private static int? RunningPort(string dataDirectory)
    {
        // postmaster.pid: line 1 pid, line 4 port. A stale file (dead pid) means nothing runs.
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return null;
        }

        try
        {
            var lines = File.ReadAllLines(pidFile);
            if (lines.Length < 4 || !int.TryParse(lines[0], out var pid) || !int.TryParse(lines[3], out var port))
            {
                return null;
            }

            return Directory.Exists($"/proc/{pid}") ? port : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port, string password, CancellationToken ct)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Database = "postgres", Username = "postgres", Password = password, Timeout = 5, Pooling = false };
            await using var conn = new NpgsqlConnection(b.ConnectionString);
            await conn.OpenAsync(ct);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            return false;
        }
    }

    private static async Task<bool> ServerUserCanReachAsync(string path, IPgToolRunner runner, CancellationToken ct)
    {
        var probe = path;
        while (!Directory.Exists(probe))
        {
            probe = Path.GetDirectoryName(probe) ?? "/";
        }

        var result = await runner.RunAsync(new PgToolInvocation("/usr/bin/test", ["-x", probe]) { AsServerUser = true }, ct);
        return result.Succeeded;
    }

    private static async Task WriteStateAsync(string path, ClusterState state, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            await using var _ = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        }

        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(state), ct);
    }

    private sealed record ClusterState(string Password, int Port);
}
