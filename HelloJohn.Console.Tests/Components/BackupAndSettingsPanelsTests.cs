using Bunit;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Settings;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Web.Components.Controls;
using HelloJohn.Console.Tests.Restores;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The delete confirmation and the settings editor on the real services: the typed file name, a refusal shown
/// with its reason, a setting from the environment shown with its variable and not editable, a change saved and used.</summary>
[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class BackupAndSettingsPanelsTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    private static readonly Actor Admin = new(TestAccounts.AdminId, "admin@example.test", [ConsoleRoles.Admin]);

    /// <summary>A finished backup whose file and manifest are on the local disk (made here, not by pg_dump).</summary>
    private async Task<BackupListItem> LocalBackupAsync(bool pinned = false)
    {
        var name = $"hellojohn_panel_{Guid.NewGuid():N}.dump";
        var store = Service<IBackupStoreRegistry>().Get("local");
        await store.PutSmallAsync(name, new byte[] { 1, 2, 3 }, CancellationToken.None);
        await store.PutSmallAsync(BackupManifest.KeyFor(name), "{}"u8.ToArray(), CancellationToken.None);
        var id = Guid.NewGuid();
        await using (var db = await App.DbAsync())
        {
            db.Backups.Add(new BackupRecord
            {
                Id = id, TargetId = App.TargetId, FileName = name, Status = BackupStatus.Succeeded, CreatedAt = DateTimeOffset.UtcNow, SizeBytes = 3, Pinned = pinned,
                Locations = [new BackupLocation { BackupId = id, Store = "local", Key = name, StoredAt = DateTimeOffset.UtcNow }],
            });
            await db.SaveChangesAsync();
        }

        return (await Service<BackupService>().GetAsync(id, CancellationToken.None))!.Backup;
    }

    private IRenderedComponent<BackupDeletePanel> RenderDelete(BackupListItem backup, Action<string> deleted) =>
        Render<BackupDeletePanel>(ps => ps.Add(p => p.Backup, backup).Add(p => p.Actor, Admin).Add(p => p.OnDeleted, deleted));

    [Fact]
    public async Task DeletePanel_EnablesDeleteOnlyForTheExactNameThenDeletes()
    {
        var backup = await LocalBackupAsync();
        string? said = null;
        var cut = RenderDelete(backup, m => said = m);
        var confirm = () => cut.Find("[data-testid=delete-backup-confirm]");
        Assert.True(confirm().HasAttribute("disabled"));

        cut.Find("input[data-testid=delete-confirmation-input]").Input(backup.FileName[..^1]);
        Assert.True(confirm().HasAttribute("disabled"));
        cut.Find("input[data-testid=delete-confirmation-input]").Input(backup.FileName);
        cut.WaitForAssertion(() => Assert.False(confirm().HasAttribute("disabled")));
        confirm().Click();

        cut.WaitForAssertion(() => Assert.Contains($"{backup.FileName} was deleted from 'local' with its manifest", said));
        Assert.False(File.Exists(Path.Combine(App.BackupDirectory, backup.FileName)));
        Assert.False(File.Exists(Path.Combine(App.BackupDirectory, BackupManifest.KeyFor(backup.FileName))));
        Assert.Equal(BackupStatus.Expired, (await Service<BackupService>().GetAsync(backup.Id, CancellationToken.None))!.Backup.Status);
    }

    [Fact]
    public async Task DeletePanel_PinnedBackup_ShowsTheRefusalAndKeepsTheFile()
    {
        var backup = await LocalBackupAsync(pinned: true);
        string? said = null;
        var cut = RenderDelete(backup, m => said = m);

        cut.Find("input[data-testid=delete-confirmation-input]").Input(backup.FileName);
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=delete-backup-confirm]").HasAttribute("disabled")));
        cut.Find("[data-testid=delete-backup-confirm]").Click();

        cut.WaitForAssertion(() => Assert.Contains("is pinned", cut.Find("[data-testid=delete-error]").TextContent));
        Assert.Null(said);
        Assert.True(File.Exists(Path.Combine(App.BackupDirectory, backup.FileName)));
    }

    [Fact]
    public async Task SettingsPage_ShowsTheEnvironmentsValuesLockedAndSavesAChangeThatRetentionUses()
    {
        var page = RenderPage<HelloJohn.Console.Web.Components.Pages.Settings>(ConsoleRoles.Admin, interactive: true);

        // The test console sets HELLOJOHN_TARGET_NAME: shown with its variable, no field to change it.
        page.WaitForAssertion(() => Assert.Contains("environment: HELLOJOHN_TARGET_NAME", page.Find("[data-testid='setting-target.name']").TextContent));
        Assert.Empty(page.Find("[data-testid='setting-target.name']").QuerySelectorAll("input"));
        Assert.Contains("default", page.Find("[data-testid='setting-retention.daily'] [data-testid=setting-source]").TextContent);

        page.Find("[data-testid='setting-retention.daily'] input").Input("10");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=save-settings]").HasAttribute("disabled")));
        page.Find("[data-testid=save-settings]").Click();

        page.WaitForAssertion(() => Assert.Contains("Daily backups kept: 7 → 10", page.Find("[data-testid=settings-saved]").TextContent));
        page.WaitForAssertion(() => Assert.Contains("every backup of the last 10 days", page.Find("[data-testid=settings-retention-policy]").TextContent));
        Assert.Contains("console · ", page.Find("[data-testid='setting-retention.daily'] [data-testid=setting-source]").TextContent);
        Assert.Equal(10, (await Service<ConsoleSettingsService>().RetentionAsync(CancellationToken.None)).Daily);
        await using var db = await App.DbAsync();
        Assert.True(await db.Set<AuditEvent>().AnyAsync(a => a.Action == AuditActions.SettingsChanged && a.Target == "Retention__Daily" && a.Outcome == AuditOutcome.Succeeded));

        await Service<ConsoleSettingsService>().SaveAsync(Admin, new Dictionary<string, string?> { [EditableSetting.RetentionDaily] = null }, CancellationToken.None);
    }

    [Fact]
    public void SettingsPage_BadNumber_IsRefusedOnThePage()
    {
        var page = RenderPage<HelloJohn.Console.Web.Components.Pages.Settings>(ConsoleRoles.Admin, interactive: true);

        page.WaitForElement("[data-testid='setting-retention.monthly'] input").Input("lots");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=save-settings]").HasAttribute("disabled")));
        page.Find("[data-testid=save-settings]").Click();

        page.WaitForAssertion(() => Assert.Contains("Monthly backups kept: 'lots' is not a whole number from 0 to 240. Nothing was changed.", page.Find("[data-testid=settings-error]").TextContent));
    }
}
