using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>The certificate that encrypts the console's Data Protection key ring at rest. The key ring lives in the
/// console database; the locally escrowed secrets (signing keys, configuration) and recovery runs' connection strings
/// are protected with it. Without this certificate a copy of that database reveals none of them.</summary>
/// <remarks>
/// <c>DataProtection__CertificatePath</c> names a PEM file holding the certificate and its private key. Without it the
/// console creates one in its data folder on first start (RSA 3072, readable by its owner only). Every console instance
/// sharing one database must use the same file; keep a copy of it outside the console's host, as the key to the
/// locally escrowed secrets.
/// </remarks>
public static class KeyRingProtector
{
    public const string SettingName = "DataProtection:CertificatePath";
    public const string DefaultFileName = "keyring-protector.pem";

    /// <summary>Loads the certificate at <paramref name="path"/>; creates it first when <paramref name="createIfMissing"/>.</summary>
    /// <exception cref="InvalidOperationException">The file is missing (and may not be created) or holds no certificate with its private key.</exception>
    public static X509Certificate2 LoadOrCreate(string path, bool createIfMissing)
    {
        if (!File.Exists(path))
        {
            if (!createIfMissing)
            {
                throw new InvalidOperationException(
                    $"DataProtection__CertificatePath points to {path}, which does not exist. Give the PEM file (certificate and private key) the console's key ring was protected with, or unset the variable to use one in the data folder.");
            }

            Create(path);
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(path);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The key ring certificate {path} (DataProtection__CertificatePath) could not be read: {e.Message} It must be a PEM file with the certificate and its private key.", e);
        }

        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException(
                $"The key ring certificate {path} (DataProtection__CertificatePath) has no RSA private key; the console needs it to read its key ring.");
        }

        return certificate;
    }

    private static void Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest("CN=HelloJohn Console key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(100));
        var pem = certificate.ExportCertificatePem() + "\n" + rsa.ExportPkcs8PrivateKeyPem() + "\n";

        // Written beside its final name, readable by the owner only from its first byte, then moved into place.
        var temporary = path + ".new";
        using (var file = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(pem);
            writer.Flush();
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: false);
    }
}
