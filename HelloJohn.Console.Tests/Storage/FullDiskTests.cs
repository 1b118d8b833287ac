using System.Net;
using System.Text.Json;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Storage;

/// <summary>Backups onto a genuinely small filesystem (tmpfs, or loop-mounted ext4): a full disk fails the backup and
/// gives its space back at once, /health follows the disk without a restart, a backup that clearly cannot fit is not
/// started, and the next one works once there is room.</summary>
[Trait("Capability", "Storage")]
[Collection(PostgresCollection.Name)]
public sealed class FullDiskTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private Actor Operator { get; set; } = Actor.System;
    private readonly Security.SecurityAppFactory _app = new(postgres);
    private SmallDisk? _disk;

    private SmallDisk Disk => _disk!;

    public async Task InitializeAsync()
    {
        _disk = SmallDisk.Mount(megabytes: 24);
        _app.Settings["Storage:Local:Directory"] = _disk.Path;
        await _app.InitializeAsync();
        Operator = (await _app.CreateAccountAsync(ConsoleRoles.Operator)).Actor;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _disk?.Dispose();
    }

    [Fact]
    public async Task Backup_DiskFillsUp_FailsGivesTheSpaceBackHealthFollowsAndTheNextBackupWorks()
    {
        // No backup before: nothing to measure against, so the write itself meets the full disk.
        var filler = Disk.FillLeaving(64 * 1024);
        var freeBefore = Disk.FreeBytes;

        var failed = await RecordAsync(await BackupAsync());

        Assert.Equal(BackupStatus.Failed, failed.Status);
        Assert.Contains("No space left on device", failed.Error);
        Assert.Contains("Its partial file was removed", failed.Error);
        Assert.Equal([filler], Files());
        Assert.Equal(freeBefore, Disk.FreeBytes);

        // At 100 % the store is not writable; with room again it is, without a restart.
        var rest = Disk.FillCompletely();
        var (code, storage) = await HealthAsync();
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), (code, storage.Status));
        Assert.Contains("No space left on device", storage.Description);
        File.Delete(rest);
        File.Delete(filler);
        (code, storage) = await HealthAsync();
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (code, storage.Status));
        Assert.Contains("local: ", storage.Description);

        var next = await RecordAsync(await BackupAsync());
        Assert.Equal(BackupStatus.Succeeded, next.Status);
        Assert.Equal([next.FileName, next.FileName + BackupManifest.Suffix], Files().Select(Path.GetFileName));
    }

    [Fact]
    public async Task Backup_LessRoomThanThePreviousBackup_IsNotStartedAndSaysWhy()
    {
        var first = await RecordAsync(await BackupAsync());
        Assert.Equal(BackupStatus.Succeeded, first.Status);
        var filler = Disk.FillLeaving(first.SizeBytes!.Value / 2);
        var before = Files();

        var refused = await RecordAsync(await BackupAsync());

        Assert.Equal(BackupStatus.Failed, refused.Status);
        Assert.Contains("Not started in store 'local'", refused.Error);
        Assert.Contains("the previous backup of this target took", refused.Error);
        Assert.Equal(0, refused.BytesWritten);
        Assert.Equal(before, Files());
        var (code, storage) = await HealthAsync();
        Assert.Equal((HttpStatusCode.OK, "Degraded"), (code, storage.Status));
        Assert.Contains("the next backup will not be written there", storage.Description);

        File.Delete(filler);
        Assert.Equal(BackupStatus.Succeeded, (await RecordAsync(await BackupAsync())).Status);
    }

    private async Task<Guid> BackupAsync()
    {
        var target = (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
        try
        {
            return await _app.Service<BackupService>().RunNowAsync(Operator, target, BackupTrigger.Manual, CancellationToken.None);
        }
        catch (BackupFailedException)
        {
            await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
            return await db.Backups.OrderByDescending(b => b.CreatedAt).Select(b => b.Id).FirstAsync();
        }
    }

    private async Task<BackupRecord> RecordAsync(Guid id)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Backups.AsNoTracking().SingleAsync(b => b.Id == id);
    }

    private List<string> Files() =>
        [.. Directory.EnumerateFiles(Disk.Path, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.health/", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    private async Task<(HttpStatusCode Code, (string Status, string Description) Storage)> HealthAsync()
    {
        // The checks' details are for signed-in users; anonymous callers learn healthy or not.
        using var client = await _app.SignedInClientAsync(await _app.AdminAsync());
        using var response = await client.GetAsync("/health");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var storage = json.RootElement.GetProperty("checks").GetProperty("storage");
        return (response.StatusCode, (storage.GetProperty("status").GetString()!, storage.GetProperty("description").GetString()!));
    }
}
