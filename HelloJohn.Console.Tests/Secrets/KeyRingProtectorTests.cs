using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Restores;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Secrets;

/// <summary>The key ring in the console database is encrypted with a certificate kept outside it: a copy of the
/// database alone reveals no escrowed secret, and an instance needs the same certificate to read them.</summary>
[Trait("Capability", "Secrets")]
[Collection(PostgresCollection.Name)]
public sealed class KeyRingProtectorTests(PostgresClusterFixture postgres)
{
    private const string Value = "postgres://hellojohn:key-ring-test-password@db.internal:5432/hellojohn";

    [Fact]
    public async Task Start_OnDefaults_CreatesAnOwnerOnlyCertificateAndStoresTheKeyRingEncrypted()
    {
        await using var app = new ConsoleAppFactory(postgres);
        await app.InitializeAsync();
        await app.Service<ISecretStore>().PutAsync("tests/" + Guid.NewGuid().ToString("N"), Value);

        var certificate = Path.Combine(app.DataDirectory, KeyRingProtector.DefaultFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(certificate));
        await using var db = await app.DbAsync();
        var keys = await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync();
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("encryptedSecret", xml);
            Assert.DoesNotContain("<value>", xml);
        });
    }

    [Fact]
    public async Task Read_ByAnInstanceWithAnotherCertificate_FailsAndWithTheSameOneSucceeds()
    {
        var name = "tests/" + Guid.NewGuid().ToString("N");
        await using var writer = new ConsoleAppFactory(postgres);
        await writer.InitializeAsync();
        await writer.Service<ISecretStore>().PutAsync(name, Value);

        // Same console database, its own data folder, so a certificate of its own.
        await using (var stranger = new ConsoleAppFactory(postgres))
        {
            await stranger.InitializeAsync();
            stranger.Settings["ConnectionStrings:Console"] = writer.ConsoleDatabase.ConnectionString;
            var e = await Assert.ThrowsAnyAsync<Exception>(() => stranger.Service<ISecretStore>().GetAsync(name));
            Assert.DoesNotContain("key-ring-test-password", e.ToString());
        }

        await using var sibling = new ConsoleAppFactory(postgres);
        await sibling.InitializeAsync();
        sibling.Settings["ConnectionStrings:Console"] = writer.ConsoleDatabase.ConnectionString;
        sibling.Settings[KeyRingProtector.SettingName] = Path.Combine(writer.DataDirectory, KeyRingProtector.DefaultFileName);
        Assert.Equal(Value, (await sibling.Service<ISecretStore>().GetAsync(name))!.Value);
    }

    [Fact]
    public void LoadOrCreate_MissingNamedFile_FailsNamingTheVariableAndCreatesNothing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"hjc-missing-{Guid.NewGuid():N}.pem");

        var e = Assert.Throws<InvalidOperationException>(() => KeyRingProtector.LoadOrCreate(path, createIfMissing: false));

        Assert.Contains("DataProtection__CertificatePath", e.Message);
        Assert.Contains(path, e.Message);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("not a certificate at all")]
    [InlineData("certificate-only")]
    public void LoadOrCreate_FileWithoutCertificateAndKey_FailsNamingTheVariable(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"hjc-bad-{Guid.NewGuid():N}.pem");
        try
        {
            if (content == "certificate-only")
            {
                using var full = KeyRingProtector.LoadOrCreate(path, createIfMissing: true);
                content = full.ExportCertificatePem();
            }

            File.WriteAllText(path, content);

            var e = Assert.Throws<InvalidOperationException>(() => KeyRingProtector.LoadOrCreate(path, createIfMissing: true));

            Assert.Contains("DataProtection__CertificatePath", e.Message);
            Assert.Equal(content, File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
