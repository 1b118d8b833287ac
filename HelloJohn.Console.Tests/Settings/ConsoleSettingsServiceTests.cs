using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Settings;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Tests.Settings;

/// <summary>Settings kept in the console database: validated, audited, overridden by environment variables, and really
/// used: retention plans with the numbers, the deployment of HELLOJOHN_DATABASE_URL takes the name, URL and provider
/// now and again at start.</summary>
[Trait("Capability", "Retention")]
[Collection(PostgresCollection.Name)]
public sealed class ConsoleSettingsServiceTests(ConsoleSettingsServiceTests.App app) : IClassFixture<ConsoleSettingsServiceTests.App>
{
    private static readonly Actor Admin = new(TestAccounts.AdminId, "admin@example.test", [ConsoleRoles.Admin]);

    /// <summary>Retention__Weekly and HELLOJOHN_PROVIDER come from the environment; the deployment's name does not.</summary>
    public sealed class App : ConsoleAppFactory
    {
        public App(PostgresClusterFixture postgres) : base(postgres)
        {
            Settings["Retention:Weekly"] = "6";
            Settings["HELLOJOHN_PROVIDER"] = "Neon";
            Settings["HELLOJOHN_TARGET_NAME"] = "";
        }
    }

    private ConsoleSettingsService Service => app.Service<ConsoleSettingsService>();

    [Fact]
    public async Task List_ShowsWhereEachValueComesFrom()
    {
        var views = (await Service.ListAsync(CancellationToken.None)).ToDictionary(v => v.Setting.Key);

        Assert.Equal(SettingSource.Environment, views[EditableSetting.RetentionWeekly].Source);
        Assert.Equal("6", views[EditableSetting.RetentionWeekly].Value);
        Assert.Equal("Retention__Weekly", views[EditableSetting.RetentionWeekly].Setting.Variable);
        Assert.False(views[EditableSetting.RetentionWeekly].Editable);
        Assert.Equal(SettingSource.Environment, views[EditableSetting.TargetProvider].Source);
        Assert.Equal("Neon", views[EditableSetting.TargetProvider].Value);
        Assert.True(views[EditableSetting.TargetName].Editable);
        Assert.True(views[EditableSetting.RetentionMonthly].Editable);
    }

    [Fact]
    public async Task Save_RetentionNumbers_AreAuditedAndRetentionPlansWithThem()
    {
        var targetId = await TargetAsync();
        await SeedDailyBackupsAsync(targetId, days: 40);
        var retention = app.Services.CreateScope().ServiceProvider.GetRequiredService<RetentionService>();
        var expiredBefore = (await retention.PreviewAsync(targetId, CancellationToken.None)).Expired.Count();

        var said = await Service.SaveAsync(Admin, new Dictionary<string, string?>
        {
            [EditableSetting.RetentionDaily] = "2",
            [EditableSetting.RetentionMonthly] = "0",
            [EditableSetting.RetentionMinimumKept] = "1",
        }, CancellationToken.None);

        Assert.Contains("Daily backups kept: 7 → 2", said);
        var options = await retention.PolicyOptionsAsync(CancellationToken.None);
        Assert.Equal((2, 6, 0, 1), (options.Daily, options.Weekly, options.Monthly, options.MinimumKept));
        var expiredAfter = (await retention.PreviewAsync(targetId, CancellationToken.None)).Expired.Count();
        Assert.True(expiredAfter > expiredBefore, $"{expiredAfter} expired with the new numbers, {expiredBefore} before");
        var audit = await AuditAsync("Retention__Daily");
        Assert.Equal(AuditOutcome.Succeeded, audit.Outcome);
        Assert.Equal("Daily backups kept: 7 → 2", audit.Detail);
        var views = (await Service.ListAsync(CancellationToken.None)).ToDictionary(v => v.Setting.Key);
        Assert.Equal(SettingSource.Console, views[EditableSetting.RetentionDaily].Source);
        Assert.Equal("admin@example.test", views[EditableSetting.RetentionDaily].UpdatedBy);

        // An empty value goes back to the default.
        await Service.SaveAsync(Admin, new Dictionary<string, string?>
        {
            [EditableSetting.RetentionDaily] = "", [EditableSetting.RetentionMonthly] = null, [EditableSetting.RetentionMinimumKept] = " ",
        }, CancellationToken.None);
        options = await retention.PolicyOptionsAsync(CancellationToken.None);
        Assert.Equal((7, 6, 3, 7), (options.Daily, options.Weekly, options.Monthly, options.MinimumKept));
        Assert.Equal(SettingSource.Default, (await Service.ListAsync(CancellationToken.None)).Single(v => v.Setting.Key == EditableSetting.RetentionDaily).Source);
    }

    [Fact]
    public async Task Save_ASettingTheEnvironmentSets_IsRefusedAndNothingChanges()
    {
        var e = await Assert.ThrowsAsync<SettingsRejectedException>(() => Service.SaveAsync(Admin, new Dictionary<string, string?>
        {
            [EditableSetting.RetentionWeekly] = "9",
            [EditableSetting.TargetProvider] = "Supabase",
            [EditableSetting.RetentionMonthly] = "11",
        }, CancellationToken.None));

        Assert.Contains("Retention__Weekly", e.Message);
        Assert.Contains("HELLOJOHN_PROVIDER", e.Message);
        Assert.Contains("Nothing was changed", e.Message);
        var options = await Service.RetentionAsync(CancellationToken.None);
        Assert.Equal((6, 3), (options.Weekly, options.Monthly));
        Assert.Equal(TargetProvider.Neon, (await app.Service<TargetService>().GetAsync(await TargetAsync(), CancellationToken.None)).Provider);
        Assert.Equal(AuditOutcome.Failed, (await AuditAsync("settings")).Outcome);
    }

    [Theory]
    [InlineData(EditableSetting.RetentionDaily, "0", "from 1 to 3650")]
    [InlineData(EditableSetting.RetentionDaily, "seven", "not a whole number")]
    [InlineData(EditableSetting.RetentionMonthly, "-1", "not a whole number")]
    [InlineData(EditableSetting.RetentionMinimumKept, "10001", "from 1 to 10000")]
    [InlineData(EditableSetting.TargetBaseUrl, "auth.example.com", "not an absolute http:// or https:// URL")]
    [InlineData(EditableSetting.TargetBaseUrl, "ftp://auth.example.com", "not an absolute http:// or https:// URL")]
    [InlineData(EditableSetting.TargetBaseUrl, "https://user:secret@auth.example.com", "without a user name or password")]
    [InlineData("retention.yearly", "1", "There is no setting 'retention.yearly'")]
    public async Task Save_BadValue_IsRefusedWithItsReasonAndNothingChanges(string key, string value, string expected)
    {
        var before = await Service.ListAsync(CancellationToken.None);

        var e = await Assert.ThrowsAsync<SettingsRejectedException>(() => Service.SaveAsync(Admin, new Dictionary<string, string?>
        {
            // A valid change beside it is not saved either: all or nothing.
            [key == EditableSetting.RetentionMonthly ? EditableSetting.RetentionDaily : EditableSetting.RetentionMonthly] = "5",
            [key] = value,
        }, CancellationToken.None));

        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("secret", e.Message);
        Assert.Equal(before.Select(v => (v.Setting.Key, v.Value, v.Source)), (await Service.ListAsync(CancellationToken.None)).Select(v => (v.Setting.Key, v.Value, v.Source)));
    }

    [Fact]
    public async Task Save_DeploymentNameAndUrl_ChangeTheDeploymentNowAndAfterARestart()
    {
        var targets = app.Service<TargetService>();
        var targetId = await TargetAsync();
        var original = (await targets.GetAsync(targetId, CancellationToken.None)).Name;
        try
        {
            await Service.SaveAsync(Admin, new Dictionary<string, string?>
            {
                [EditableSetting.TargetName] = "primary-eu",
                [EditableSetting.TargetBaseUrl] = "https://auth.example.com/",
            }, CancellationToken.None);

            var target = await targets.GetAsync(targetId, CancellationToken.None);
            Assert.Equal(("primary-eu", "https://auth.example.com"), (target.Name, target.BaseUrl));

            // At start the deployment is refreshed from the environment: what no variable sets stays as set here.
            Assert.Equal(targetId, await targets.EnsureEnvironmentTargetAsync(CancellationToken.None));
            target = await targets.GetAsync(targetId, CancellationToken.None);
            Assert.Equal(("primary-eu", "https://auth.example.com", TargetProvider.Neon), (target.Name, target.BaseUrl, target.Provider));
            Assert.Equal("HelloJohn base URL: not set → https://auth.example.com", (await AuditAsync("HELLOJOHN_BASE_URL")).Detail);

            await Service.SaveAsync(Admin, new Dictionary<string, string?> { [EditableSetting.TargetBaseUrl] = "" }, CancellationToken.None);
            await targets.EnsureEnvironmentTargetAsync(CancellationToken.None);
            Assert.Null((await targets.GetAsync(targetId, CancellationToken.None)).BaseUrl);
        }
        finally
        {
            await Service.SaveAsync(Admin, new Dictionary<string, string?> { [EditableSetting.TargetName] = original }, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Save_NameOfAnotherDeployment_IsRefused()
    {
        var other = await app.Service<TargetService>().AddStoredAsync("staging-" + Guid.NewGuid().ToString("N")[..6], app.Target.ConnectionString, null, TargetProvider.SelfManaged, CancellationToken.None);
        var name = (await app.Service<TargetService>().GetAsync(other, CancellationToken.None)).Name;

        var e = await Assert.ThrowsAsync<SettingsRejectedException>(() => Service.SaveAsync(Admin, new Dictionary<string, string?> { [EditableSetting.TargetName] = name }, CancellationToken.None));

        Assert.Contains($"Another deployment is already named '{name}'", e.Message);
    }

    private async Task SeedDailyBackupsAsync(Guid targetId, int days)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = await app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var database = (await db.Targets.SingleAsync(t => t.Id == targetId)).Databases[0];
        for (var d = 1; d <= days; d++)
        {
            var at = now.AddDays(-d);
            db.Backups.Add(new BackupRecord
            {
                Id = Guid.NewGuid(), TargetId = targetId, DatabaseName = database, FileName = $"hellojohn_settings_{d:000}_{Guid.NewGuid():N}.dump",
                Status = BackupStatus.Succeeded, CreatedAt = at, StartedAt = at, FinishedAt = at.AddSeconds(5), SizeBytes = 1000, Sha256 = new string('a', 64),
            });
        }

        await db.SaveChangesAsync();
    }

    private async Task<AuditEvent> AuditAsync(string target)
    {
        await using var db = await app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        return await db.Set<AuditEvent>().Where(a => a.Action == AuditActions.SettingsChanged && a.Target == target).OrderByDescending(a => a.Id).FirstAsync();
    }

    private async Task<Guid> TargetAsync() => (await app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
}
