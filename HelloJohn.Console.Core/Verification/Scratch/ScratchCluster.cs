using System.Globalization;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Verification.Scratch;

/// <summary>A running scratch cluster lent to one verification; the cluster stays up while any lease is held.</summary>
public sealed class ScratchLease(ScratchCluster owner, int major, NpgsqlConnectionStringBuilder server) : IAsyncDisposable
{
    private int _released;

    public int Major => major;

    /// <summary>Its superuser, connected to the maintenance database.</summary>
    public NpgsqlConnectionStringBuilder Server => server;

    /// <summary>How a verification's record names a scratch cluster; it starts with <see cref="DescriptionStart"/>.</summary>
    public string Description => $"{DescriptionStart} (PostgreSQL {major}, {server.Host}:{server.Port})";

    public const string DescriptionStart = "the console's scratch cluster";

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _released, 1) == 0 ? owner.ReleaseAsync(major) : ValueTask.CompletedTask;
}

/// <summary>The console's private PostgreSQL clusters for verification restores, one per major version needed, under
/// <c>{data folder}/scratch/{owner}/pg{major}</c>, on a free loopback port, with a generated superuser password. Started on
/// the first verification that needs one, reused by the next, stopped after <c>Verification__ScratchIdleTimeout</c>
/// without a verification and when the console stops, when its folder is removed. Tuned for restores thrown away
/// afterwards: nothing is synced or WAL-logged that need not be, and nothing runs in the background.</summary>
public sealed class ScratchCluster(IOptions<ConsoleOptions> console, IOptionsMonitor<VerificationOptions> options, ILoggerFactory loggers, TimeProvider time)
{
    /// <summary>Server settings for throw-away restores. Index builds were measured no faster with more than 256 MB of
    /// maintenance_work_mem on HelloJohn's tables (docs/benchmarks.md).</summary>
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["fsync"] = "off",
        ["synchronous_commit"] = "off",
        ["full_page_writes"] = "off",
        ["wal_level"] = "minimal",
        ["max_wal_senders"] = "0",
        ["max_wal_size"] = "8GB",
        ["checkpoint_timeout"] = "1h",
        ["autovacuum"] = "off",
        ["maintenance_work_mem"] = "256MB",
        ["jit"] = "off",
        ["max_connections"] = "50",
    };

    private readonly ILogger _logger = loggers.CreateLogger<ScratchCluster>();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<int, Running> _running = [];
    private bool _stopped;

    /// <summary>Where every scratch cluster of this machine's data folder lives (moved under /var/tmp when the 'postgres'
    /// user cannot reach the data folder).</summary>
    public string Root => LocalPostgresCluster.ReachableRoot(Path.Combine(console.Value.DataDirectory, "scratch"), _logger);

    /// <summary>This process's folder under <see cref="Root"/>: its id and start time, so a folder whose process is gone
    /// is known to be a leftover even when the id was reused.</summary>
    public string OwnFolder => Path.Combine(Root, ScratchOwner.Current.FolderName);

    /// <summary>A cluster able to restore a dump of a PostgreSQL <paramref name="targetMajor"/> server, started if need be.
    /// Throws <see cref="ScratchClusterUnavailableException"/> when this machine has no such server programs.</summary>
    public async Task<ScratchLease> AcquireAsync(int targetMajor, CancellationToken ct)
    {
        var root = options.CurrentValue.ServerPrograms;
        var found = ServerInstallations.Find(root);
        var install = ServerInstallations.Pick(found, targetMajor)
            ?? throw new ScratchClusterUnavailableException(targetMajor, ServerInstallations.Missing(found, root, targetMajor));

        await _gate.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (!_running.TryGetValue(install.Major, out var running))
            {
                var runner = new PgToolRunner(PgBinaries.At(install.BinDirectory), loggers.CreateLogger<PgToolRunner>());
                var folder = Path.Combine(OwnFolder, "pg" + install.Major.ToString(CultureInfo.InvariantCulture));
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var cluster = await LocalPostgresCluster.StartAsync(folder, runner, Settings, loggers.CreateLogger<LocalPostgresCluster>(), deleteOnDispose: true, ct);
                _logger.LogInformation("Started the scratch cluster for verification (PostgreSQL {Major}) in {Folder} on 127.0.0.1:{Port} in {Seconds:0.0} s",
                    install.Major, cluster.Root, cluster.Port, watch.Elapsed.TotalSeconds);
                running = new Running(cluster);
                _running[install.Major] = running;
            }

            running.IdleStop?.Dispose();
            running.IdleStop = null;
            running.Leases++;
            return new ScratchLease(this, install.Major, running.Cluster.ConnectionFor("postgres"));
        }
        finally
        {
            _gate.Release();
        }
    }

    internal async ValueTask ReleaseAsync(int major)
    {
        await _gate.WaitAsync();
        try
        {
            if (_running.TryGetValue(major, out var running) && --running.Leases == 0)
            {
                running.IdleStop = time.CreateTimer(_ => _ = StopIdleAsync(major), null, options.CurrentValue.ScratchIdleTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether a scratch cluster of <paramref name="major"/> runs now, and on which port.</summary>
    public int? PortOf(int major) => _running.TryGetValue(major, out var r) ? r.Cluster.Port : null;

    private async Task StopIdleAsync(int major)
    {
        await _gate.WaitAsync();
        try
        {
            if (_running.TryGetValue(major, out var running) && running.Leases == 0)
            {
                try
                {
                    await StopAsync(running);
                }
                finally
                {
                    _running.Remove(major);
                }

                _logger.LogInformation("Stopped the idle scratch cluster (PostgreSQL {Major})", major);
            }
        }
        catch (Exception e)
        {
            // A timer callback: nobody else would see it.
            _logger.LogWarning("Stopping the idle scratch cluster (PostgreSQL {Major}) failed: {Message}", major, e.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops every scratch cluster and removes this process's folder: the console is stopping.</summary>
    public async Task StopAllAsync()
    {
        await _gate.WaitAsync();
        try
        {
            _stopped = true;
            foreach (var running in _running.Values)
            {
                await StopAsync(running);
            }

            _running.Clear();
            DeleteQuietly(OwnFolder);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops and removes what consoles that died left under <see cref="Root"/>: their servers (the verification
    /// databases in them go with the data) and folders. Folders of consoles still running are left alone.</summary>
    public async Task<int> RemoveLeftoversAsync(CancellationToken ct)
    {
        var root = Root;
        if (!Directory.Exists(root))
        {
            return 0;
        }

        var removed = 0;
        foreach (var folder in Directory.GetDirectories(root))
        {
            var owner = ScratchOwner.Parse(Path.GetFileName(folder));
            if (owner is not null && (owner == ScratchOwner.Current || owner.IsAlive()))
            {
                continue;
            }

            foreach (var cluster in Directory.GetDirectories(folder, "pg*"))
            {
                var installed = ServerInstallations.Find(options.CurrentValue.ServerPrograms);
                var major = int.TryParse(Path.GetFileName(cluster)[2..], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
                var install = installed.FirstOrDefault(i => i.Major == major) ?? installed.LastOrDefault();
                if (install is not null)
                {
                    var runner = new PgToolRunner(PgBinaries.At(install.BinDirectory), loggers.CreateLogger<PgToolRunner>());
                    await LocalPostgresCluster.StopLeftoverAsync(cluster, runner, _logger, ct);
                }
            }

            DeleteQuietly(folder);
            removed++;
            _logger.LogWarning("Removed the scratch cluster folder {Folder}, left by a console process that stopped without cleaning up", folder);
        }

        return removed;
    }

    private async Task StopAsync(Running running)
    {
        running.IdleStop?.Dispose();
        NpgsqlConnection.ClearAllPools();
        await running.Cluster.DisposeAsync();
    }

    private void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not remove {Folder}: {Message}; the next start removes it", folder, e.Message);
        }
    }

    private sealed class Running(LocalPostgresCluster cluster)
    {
        public LocalPostgresCluster Cluster => cluster;
        public int Leases { get; set; }
        public ITimer? IdleStop { get; set; }
    }
}

/// <summary>No scratch cluster can run for the target's PostgreSQL version on this machine.</summary>
public sealed class ScratchClusterUnavailableException(int targetMajor, string message) : Exception(message)
{
    public int TargetMajor { get; } = targetMajor;
}
