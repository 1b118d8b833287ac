using System.Security.Cryptography;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Tests.Backups;

[Trait("Capability", "Backups")]
public sealed class BackupCompressionTests
{
    [Theory]
    [InlineData("zstd:1", CompressionCodec.Zstd, 1, 0, ".dump.zst")]
    [InlineData("ZSTD:19", CompressionCodec.Zstd, 19, 0, ".dump.zst")]
    [InlineData("zstd", CompressionCodec.Zstd, 3, 0, ".dump.zst")]
    [InlineData("gzip:9", CompressionCodec.Gzip, 9, 9, ".dump")]
    [InlineData(" gzip:0 ", CompressionCodec.Gzip, 0, 0, ".dump")]
    [InlineData("6", CompressionCodec.Gzip, 6, 6, ".dump")]
    public void Parse_KnownSettings_GivesCodecLevelAndFileName(string value, CompressionCodec codec, int level, int pgDumpLevel, string extension)
    {
        var c = BackupCompression.Parse(value);

        Assert.Equal(codec, c.Codec);
        Assert.Equal(level, c.Level);
        Assert.Equal(pgDumpLevel, c.PgDumpLevel);
        Assert.Equal(extension, c.FileExtension);
        Assert.Equal(c, BackupCompression.Parse(c.ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("-1")]
    [InlineData("zstd:0")]
    [InlineData("zstd:20")]
    [InlineData("gzip:10")]
    [InlineData("gzip")]
    [InlineData("lz4:1")]
    [InlineData("zstd:fast")]
    [InlineData("zstd:1:2")]
    public void Parse_UnknownSettings_FailsNamingTheAcceptedValues(string? value)
    {
        Assert.False(BackupCompression.TryParse(value, out _));
        Assert.Contains("use zstd:1 to zstd:19, or gzip:0 to gzip:9", Assert.Throws<FormatException>(() => BackupCompression.Parse(value)).Message);
    }

    [Fact]
    public void Validate_BadSetting_NamesTheVariable()
    {
        var result = new BackupOptionsValidation().Validate(null, new BackupOptions { Compression = "brotli" });

        Assert.True(result.Failed);
        Assert.Contains("Backups__Compression must be zstd:1 to zstd:19", result.FailureMessage);
        Assert.Contains("'brotli'", result.FailureMessage);
        Assert.True(new BackupOptionsValidation().Validate(null, new BackupOptions()).Succeeded);
    }

    [Fact]
    public void Default_IsZstdAndDocumented() =>
        Assert.Equal("zstd:1", new BackupOptions().Compression);

    [Theory]
    [InlineData("zstd:3", true)]
    [InlineData("gzip:9", false)]
    [InlineData("something else", false)]
    [InlineData(null, false)]
    public void IsZstd_ManifestCompression_SaysWhetherToUnpack(string? compression, bool expected) =>
        Assert.Equal(expected, BackupCompression.IsZstd(compression));

    [Theory]
    [InlineData("hellojohn_20240120_103000.dump.zst", "2024-01-20T10:30:00Z")]
    [InlineData("hellojohn_20240120_103000_2.dump.zst", "2024-01-20T10:30:00Z")]
    public void TryParseTime_ZstdNames_ReturnsTheTime(string name, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), BackupNaming.TryParseTime(name));

    [Fact]
    public void FileNameFor_ZstdExtension_EndsInDumpZst() =>
        Assert.Equal("hellojohn_20240120_103000_2.dump.zst", BackupNaming.FileNameFor(new DateTimeOffset(2024, 1, 20, 10, 30, 0, TimeSpan.Zero), "2", ".dump.zst"));

    [Theory]
    [InlineData(TargetProvider.SelfManaged, "zstd -d --keep hellojohn_20240120_103000.dump.zst\npg_restore --no-owner --exit-on-error --verbose --dbname=\"$NEW_DATABASE_URL\" hellojohn_20240120_103000.dump")]
    [InlineData(TargetProvider.DockerCompose, "zstd -dc ./backups/hellojohn_20240120_103000.dump.zst | docker compose exec -T postgres pg_restore")]
    public void RestoreByHand_ZstdBackup_UnpacksBeforePgRestore(TargetProvider provider, string expected) =>
        Assert.Contains(expected, string.Join("\n", Core.Recovery.ProviderInstructions.RestoreByHand(provider, "hellojohn_20240120_103000.dump.zst").Select(b => b.Command)));

    [Fact]
    public async Task Compress_Native_StockZstdChecksAndUnpacksItAndDecompressAsyncGivesTheSameBytes()
    {
        var folder = Directory.CreateTempSubdirectory("hjc-zstd-");
        try
        {
            // Half repetitive, half random, over several of libzstd's jobs, written in uneven pieces.
            var data = new byte[9_000_000];
            RandomNumberGenerator.Fill(data.AsSpan(0, 3_000_000));
            for (var i = 3_000_000; i < data.Length; i++)
            {
                data[i] = (byte)(i % 97);
            }

            var packed = Path.Combine(folder.FullName, "x.dump.zst");
            await using (var file = File.Create(packed))
            await using (var zstd = NativeZstd.Compress(file, 1))
            {
                for (var at = 0; at < data.Length; at += 65_521)
                {
                    await zstd.WriteAsync(data.AsMemory(at, Math.Min(65_521, data.Length - at)));
                }
            }

            Assert.True(new FileInfo(packed).Length < data.Length * 0.6);
            await CompressedBackupPipelineTests.StockZstdAsync("-t", "-q", packed);
            await CompressedBackupPipelineTests.StockZstdAsync("-d", "-q", "-o", Path.Combine(folder.FullName, "stock.dump"), packed);
            await BackupCompression.DecompressAsync(packed, Path.Combine(folder.FullName, "console.dump"), CancellationToken.None);
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(folder.FullName, "stock.dump")));
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(folder.FullName, "console.dump")));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DecompressAsync_NotAZstdFile_ThrowsAndLeavesNoFileBehind()
    {
        var folder = Directory.CreateTempSubdirectory("hjc-zstd-");
        try
        {
            var source = Path.Combine(folder.FullName, "hellojohn_20240120_103000.dump.zst");
            await File.WriteAllBytesAsync(source, RandomNumberGenerator.GetBytes(4096));
            var archive = Path.Combine(folder.FullName, "out.dump");

            await Assert.ThrowsAnyAsync<Exception>(() => BackupCompression.DecompressAsync(source, archive, CancellationToken.None));
            Assert.False(File.Exists(archive));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

/// <summary>The pipeline at each kind of setting, on the real database and tools.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class CompressedBackupPipelineTests(PostgresClusterFixture postgres)
{
    private static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);

    [Theory]
    [InlineData("zstd:1", ".dump.zst")]
    [InlineData("zstd:7", ".dump.zst")]
    [InlineData("gzip:6", ".dump")]
    public async Task RunNow_AtSetting_FileRestoresWithStockToolsAndMatchesManifest(string setting, string extension)
    {
        await using var app = new ConsoleAppFactory(postgres);
        await app.InitializeAsync();
        app.Settings["Backups:Compression"] = setting;
        var backups = app.Service<BackupService>();
        var target = (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;

        var details = (await backups.GetAsync(await backups.RunNowAsync(Operator, target, BackupTrigger.Manual, CancellationToken.None), CancellationToken.None))!;

        Assert.Equal(setting, details.Compression);
        Assert.EndsWith(extension, details.Backup.FileName, StringComparison.Ordinal);
        var file = Path.Combine(app.BackupDirectory, details.Backup.FileName);
        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(file + BackupManifest.Suffix));
        Assert.Equal(setting, manifest.Compression);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))), manifest.Sha256);

        var archive = file;
        if (BackupCompression.IsZstd(manifest.Compression))
        {
            // A zstd backup is not an archive pg_restore reads until it is unpacked, with the stock program as the
            // README says (zstd -d, which also checks the frame's content checksum).
            Assert.False((await app.RunToolAsync("pg_restore", "--list", file)).Succeeded);
            archive = Path.Combine(app.DataDirectory, "unpacked.dump");
            await StockZstdAsync("-d", "-q", "-o", archive, file);
            Assert.Equal("PGDMP"u8.ToArray(), (await File.ReadAllBytesAsync(archive))[..5]);
        }

        var restored = await postgres.CreateDatabaseAsync("unpacked");
        var restore = await postgres.Runner.RunAsync(new PgToolInvocation("pg_restore", ["--no-owner", "--jobs=2", "--dbname", restored.Database!, archive]) { Connection = restored });
        Assert.True(restore.Succeeded, restore.StandardError);
        foreach (var table in manifest.Tables)
        {
            Assert.Equal(table.Rows, await postgres.CountAsync(restored, table.Table));
        }
    }

    /// <summary>Runs the zstd program of the machine's packages (the README's by-hand commands use it).</summary>
    internal static async Task StockZstdAsync(params string[] args)
    {
        using var zstd = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("zstd", args) { RedirectStandardError = true, UseShellExecute = false })!;
        var error = await zstd.StandardError.ReadToEndAsync();
        await zstd.WaitForExitAsync();
        Assert.True(zstd.ExitCode == 0, $"zstd {string.Join(' ', args)}: {error}");
    }

    [Fact]
    public async Task Start_UnknownCompression_FailsNamingTheVariable()
    {
        await using var app = new ConsoleAppFactory(postgres);
        await app.InitializeAsync();
        app.Settings["Backups:Compression"] = "zstd:99";

        var e = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        var validation = e as OptionsValidationException ?? e.InnerException as OptionsValidationException ?? (e as AggregateException)?.InnerExceptions.OfType<OptionsValidationException>().FirstOrDefault();
        Assert.NotNull(validation);
        Assert.Contains("Backups__Compression must be zstd:1 to zstd:19", validation.Message);
    }
}
