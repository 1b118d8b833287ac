using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HelloJohn.Console.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>A real S3-compatible server (the npm package s3rver) on a free loopback port, with its data in a temporary
/// folder. Installs the package with npm the first time. It can be killed and restarted on the same folder and port,
/// as a crash would.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly string _packageDirectory = FindPackageDirectory();
    private Process? _server;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "hellojohn-s3rver-" + Guid.NewGuid().ToString("N")[..12]);
    public int Port { get; } = FreePort();
    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        await InstallAsync();
        Directory.CreateDirectory(DataDirectory);
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        Kill();
        await Task.Yield();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    /// <summary>A store on this server, in a bucket of its own unless <paramref name="bucket"/> is given.</summary>
    public async Task<S3BackupStore> CreateStoreAsync(string name = "s3", string? bucket = null, string prefix = "backups", string storageClass = "STANDARD", int partSizeMiB = 5)
    {
        bucket ??= "b" + Guid.NewGuid().ToString("N")[..20];
        var store = new S3BackupStore(new S3StoreDefinition(name, "Storage__S3")
        {
            Bucket = bucket,
            Prefix = S3StorageOptions.NormalizePrefix(prefix),
            Region = "us-east-1",
            ServiceUrl = ServiceUrl,
            ForcePathStyle = true,
            AccessKeyId = AccessKey,
            SecretAccessKey = SecretKey,
            StorageClass = storageClass,
            PartSizeMiB = partSizeMiB,
        }, NullLogger<S3BackupStore>.Instance);
        await EnsureBucketAsync(bucket);
        return store;
    }

    public async Task EnsureBucketAsync(string bucket)
    {
        using var client = new Amazon.S3.AmazonS3Client(AccessKey, SecretKey, new Amazon.S3.AmazonS3Config { ServiceURL = ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        try
        {
            await client.PutBucketAsync(bucket);
        }
        catch (Exception e) when (e is Amazon.S3.Model.BucketAlreadyExistsException or Amazon.S3.Model.BucketAlreadyOwnedByYouException)
        {
            // Two stores of one test share a bucket under different prefixes.
        }
    }

    /// <summary>Stops the server at once, as a crash or a network failure would.</summary>
    public void Kill()
    {
        if (_server is { HasExited: false } server)
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }

        _server?.Dispose();
        _server = null;
    }

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("node", ["server.js", DataDirectory, Port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            WorkingDirectory = _packageDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _server = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await _server.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("ready", StringComparison.Ordinal))
        {
            var error = await _server.StandardError.ReadToEndAsync(timeout.Token);
            throw new InvalidOperationException($"s3rver did not start on port {Port}: {line} {error}");
        }
    }

    private Task InstallAsync() => Infrastructure.NodePackage.EnsureInstalledAsync(_packageDirectory, "s3rver");

    private static string FindPackageDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "HelloJohn.Console.Tests", "s3rver");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }

            if (File.Exists(Path.Combine(dir.FullName, "s3rver", "package.json")) && dir.Name == "HelloJohn.Console.Tests")
            {
                return Path.Combine(dir.FullName, "s3rver");
            }
        }

        throw new DirectoryNotFoundException("HelloJohn.Console.Tests/s3rver/package.json was not found above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
