using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MimeKit;

namespace HelloJohn.Console.Tests.Notifications;

/// <summary>A real SMTP server (the npm package smtp-server) on a free loopback port: STARTTLS with a certificate made
/// for the test run, AUTH required after TLS, every accepted message kept as a .eml file. Installs the package with npm
/// the first time.</summary>
public sealed class SmtpServerFixture : IAsyncLifetime
{
    public const string User = "alerts@smtp.test";
    public const string Password = "Smtp-Pa55word-for-tests";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "hjc-smtp-" + Guid.NewGuid().ToString("N")[..12]);
    private Process? _server;

    public int Port { get; } = FreePort();
    public string MailDirectory => Path.Combine(_root, "mail");
    /// <summary>SHA-256 (hex) of the server's certificate, which no public authority signed: channels pin it.</summary>
    public string CertificateSha256 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var package = PackageDirectory();
        await Infrastructure.NodePackage.EnsureInstalledAsync(package, "smtp-server");
        Directory.CreateDirectory(MailDirectory);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=smtp.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        CertificateSha256 = Convert.ToHexString(SHA256.HashData(certificate.RawData));
        var certPath = Path.Combine(_root, "cert.pem");
        var keyPath = Path.Combine(_root, "key.pem");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());

        _server = Process.Start(new ProcessStartInfo("node", ["server.js", MailDirectory, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), User, Password, certPath, keyPath])
        {
            WorkingDirectory = package,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("node did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await _server.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("ready", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The SMTP test server did not start on port {Port}: {line} {await _server.StandardError.ReadToEndAsync(timeout.Token)}");
        }
    }

    /// <summary>Every message accepted so far, oldest first.</summary>
    public async Task<IReadOnlyList<MimeMessage>> MessagesAsync()
    {
        var messages = new List<MimeMessage>();
        foreach (var file in Directory.GetFiles(MailDirectory, "*.eml").Order(StringComparer.Ordinal))
        {
            messages.Add(await MimeMessage.LoadAsync(file));
        }

        return messages;
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false } server)
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }

        _server?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }

        return Task.CompletedTask;
    }

    private static string PackageDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "HelloJohn.Console.Tests", "smtp");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("HelloJohn.Console.Tests/smtp/package.json was not found above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
