using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Tests.Backups;

[Trait("Capability", "Backups")]
public sealed class BackupNamingTests
{
    [Fact]
    public void FileNameFor_UsesTheDocumentedPatternInUtc()
    {
        var at = new DateTimeOffset(2024, 1, 20, 11, 30, 0, TimeSpan.FromHours(1));
        Assert.Equal("hellojohn_20240120_103000.dump", BackupNaming.FileNameFor(at));
        Assert.Equal("hellojohn_20240120_103000_2.dump", BackupNaming.FileNameFor(at, "2"));
    }

    [Theory]
    [InlineData("hellojohn_20240120_103000.dump", "2024-01-20T10:30:00Z")]
    [InlineData("hellojohn_20240120.dump", "2024-01-20T00:00:00Z")]
    [InlineData("/backups/hellojohn_20240120_103000_2.dump", "2024-01-20T10:30:00Z")]
    public void TryParseTime_KnownShapes_ReturnsTheTime(string name, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), BackupNaming.TryParseTime(name));

    [Theory]
    [InlineData("backup.dump")]
    [InlineData("hellojohn_20241340_103000.dump")]
    [InlineData("hellojohn_20240120_103000.dump.manifest.json")]
    public void TryParseTime_OtherNames_ReturnsNull(string name) => Assert.Null(BackupNaming.TryParseTime(name));

    [Fact]
    public void ManifestParse_BadJson_SaysWhy()
    {
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => BackupManifest.Parse("{"u8)).Message);
        Assert.Contains("lacks a SHA-256", Assert.Throws<InvalidDataException>(() => BackupManifest.Parse(
            """{"backupId":"6f9619ff-8b86-d011-b42d-00cf4fc964ff","targetName":"t","fileName":"f","format":"custom","compression":"gzip:9","sizeBytes":1,"sha256":"abc","startedAt":"2024-01-01T00:00:00Z","finishedAt":"2024-01-01T00:00:00Z","tier":"daily","trigger":"Manual","tables":[]}"""u8)).Message);
    }
}
