using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Notifications;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>Backup sets on a real cluster: one dump per database of the deployment plus the server's roles and a set
/// manifest; the selection evaluated at every set; one failing database makes the set partial and a retry re-runs it
/// alone; a member restores into a new database with its exact counts; a catalog rebuild finds the sets again.</summary>
[Trait("Capability", "Sets")]
[Collection(PostgresCollection.Name)]
public sealed class BackupSetTests(BackupSetTests.App app) : IClassFixture<BackupSetTests.App>
{
    public sealed class App : ConsoleAppFactory
    {
        public App(PostgresClusterFixture postgres) : base(postgres)
        {
            Settings["Sets:Parallelism"] = "2";
            Settings["HELLOJOHN_CONSOLE_URL"] = ConsoleUrl;
        }
    }

    private const string ConsoleUrl = "https://sets.example.test";

    private PostgresClusterFixture Postgres => app.Postgres;

    [Fact]
    public async Task Set_PatternTakesANewTenantAndReportsADroppedOne_EachMemberWithItsOwnManifest()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 120);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_b", 40);
        var id = await app.AddDeploymentAsync(prefix, null, $"{prefix}_tenant_*");

        var first = await app.BackUpSetAsync(id);
        Assert.Equal(BackupSetStatus.Succeeded, first.Set.Status);
        Assert.Equal([$"{prefix}_tenant_a", $"{prefix}_tenant_b"], first.Members.Select(m => m.Database).Order());
        Assert.NotNull(first.RolesFileName);
        Assert.True(File.Exists(Path.Combine(app.BackupDirectory, first.RolesFileName!)));
        var manifest = BackupSetManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(app.BackupDirectory, SetNaming.ManifestKey(first.Set.Name))));
        Assert.Equal(2, manifest.Members.Count);
        Assert.All(manifest.Members, m => Assert.Equal("schema_migrations:0004_rbac_schema_fix", m.SchemaVersion));
        Assert.Equal(first.RolesSha256, manifest.Roles!.Sha256);
        // Each member is a whole backup of its own: its manifest, counts taken in its snapshot, its SHA-256.
        var memberA = first.Members.Single(m => m.Database == $"{prefix}_tenant_a");
        var memberManifest = BackupManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(app.BackupDirectory, BackupManifest.KeyFor(memberA.FileName))));
        Assert.Equal(memberA.Sha256, memberManifest.Sha256);
        Assert.Equal(120, memberManifest.Tables.Single(t => t.Table == "app_user").Rows);
        Assert.Equal($"{prefix}_tenant_a", memberManifest.DatabaseName);
        Assert.Equal(first.Set.Id, memberManifest.SetId);

        // A tenant created since, and one dropped since.
        await Postgres.CreateTenantAsync($"{prefix}_tenant_c", 10);
        await Postgres.DropDatabaseAsync($"{prefix}_tenant_a");
        var second = await app.BackUpSetAsync(id);

        Assert.Equal([$"{prefix}_tenant_b", $"{prefix}_tenant_c"], second.Members.Select(m => m.Database).Order());
        Assert.Equal([$"{prefix}_tenant_a"], second.Set.GoneDatabases);
        var overview = (await app.Service<DeploymentOverviewService>().ListAsync(CancellationToken.None)).Single(d => d.TargetId == id);
        Assert.Equal($"{prefix}_tenant_a", Assert.Single(overview.Gone).Name);
        Assert.Equal(second.Set.Id, overview.NewestGoodSet!.Id);
        Assert.Equal(2, overview.Protected.Count);
    }

    [Fact]
    public async Task Set_OneDatabaseTheRoleMayNotRead_IsPartialWithTheReason_AndRetryRunsOnlyIt()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 30);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_b", 30);
        var locked = $"{prefix}_tenant_locked";
        await ExecuteAsync(Postgres.Cluster.ConnectionFor("postgres"), $"CREATE DATABASE {locked}");
        await ExecuteAsync(Postgres.Cluster.ConnectionFor("postgres"), $"REVOKE CONNECT ON DATABASE {locked} FROM PUBLIC");
        var id = await app.AddDeploymentAsync(prefix, null, $"{prefix}_tenant_*");
        await using var receiver = await WebhookReceiver.StartAsync();
        var hook = await app.Service<NotificationChannelService>().CreateAsync(DeliveryWait.Admin, new ChannelDraft($"sets-{prefix}", NotificationChannelKind.Webhook, true,
            [NotificationEventKind.SetPartial, NotificationEventKind.BackupSucceeded]) { Url = receiver.Url($"/sets/{prefix}") }, CancellationToken.None);

        var set = await app.BackUpSetAsync(id);

        Assert.Equal(BackupSetStatus.Partial, set.Set.Status);
        var failed = Assert.Single(set.Members, m => !m.Kept);
        Assert.Equal(locked, failed.Database);
        Assert.Contains("permission denied", failed.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(locked, set.Set.Error);
        Assert.Equal(2, set.Members.Count(m => m.Kept));
        var keptIds = set.Members.Where(m => m.Kept).Select(m => m.BackupId).Order().ToList();

        await ExecuteAsync(Postgres.Cluster.ConnectionFor("postgres"), $"GRANT CONNECT ON DATABASE {locked} TO {PostgresClusterFixture.DemoRole}");
        await app.Service<SetService>().RetryFailedAsync(Operator, set.Set.Id, CancellationToken.None);
        var retried = await app.WaitForSetAsync(set.Set.Id);

        Assert.Equal(BackupSetStatus.Succeeded, retried.Set.Status);
        Assert.Equal(3, retried.Set.MembersKept);
        // Only the failed database ran again: the two kept dumps are the same records, the failed attempt stays as history.
        Assert.Equal(keptIds, retried.Members.Where(m => m.Kept && m.Database != locked).Select(m => m.BackupId).Order());
        Assert.Equal(2, retried.Members.Count(m => m.Database == locked));
        Assert.Single(retried.Members, m => m.Database == locked && m.Retried && !m.Kept);

        // Told once per end of the set (not per member): partial with the failed database, then succeeded after the retry,
        // each linking to the set itself.
        var told = await DeliveryWait.ForAsync(app.Service<NotificationChannelService>(), d => d.ChannelId == hook.Channel.Id, 2);
        Assert.Equal(["backup.succeeded", "set.partial"], told.Select(d => d.EventCode).Order());
        var bodies = receiver.Bodies($"/sets/{prefix}");
        Assert.Equal(2, bodies.Count);
        var partial = Assert.Single(bodies, b => b.GetProperty("event").GetString() == "set.partial");
        Assert.Equal($"Backup set of {prefix} partial: 1 of 3 database(s) failed", partial.GetProperty("title").GetString());
        Assert.Contains(locked, partial.GetProperty("text").GetString());
        Assert.Equal(locked, partial.GetProperty("facts").GetProperty("failed").GetString());
        Assert.All(bodies, b => Assert.Equal($"{ConsoleUrl}/backups?set={set.Set.Id}", b.GetProperty("url").GetString()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.Service<SetService>().RetryFailedAsync(Operator, set.Set.Id, CancellationToken.None));
    }

    [Fact]
    public async Task RestoreMember_FromASet_IntoANewDatabase_HasTheManifestsExactCounts()
    {
        var prefix = SetTestSupport.NewPrefix();
        var source = await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 250);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_b", 20);
        var id = await app.AddDeploymentAsync(prefix, null, $"{prefix}_tenant_*");
        var set = await app.BackUpSetAsync(id);
        var member = set.Members.Single(m => m.Database == $"{prefix}_tenant_a");
        // Written after the set: the restore must not have them.
        await ExecuteAsync(source, "DELETE FROM sessions WHERE created_at > timestamptz '2026-06-01'");

        var restored = await app.Service<RestoreService>().RestoreAsync(Operator,
            new RestoreRequest(member.BackupId, RestoreMode.NewDatabase, $"{prefix}_restored"), CancellationToken.None);

        Assert.True(restored.Run.CountsMatch);
        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(app.BackupDirectory, BackupManifest.KeyFor(member.FileName))));
        var copy = Postgres.Demo.WithDatabase($"{prefix}_restored");
        foreach (var table in manifest.Tables)
        {
            Assert.Equal(table.Rows, await Postgres.CountAsync(copy, table.Table));
        }

        // The live tenant is its own database, not the deployment's connection database: restoring over it is in place.
        var refused = await Assert.ThrowsAsync<RestoreRefusedException>(() => app.Service<RestoreService>().RequestAsync(Operator,
            new RestoreRequest(member.BackupId, RestoreMode.NewDatabase, $"{prefix}_tenant_a"), CancellationToken.None));
        Assert.Contains("live", refused.Message);
    }

    [Fact]
    public async Task CatalogRebuild_AfterTheCatalogLostItsSets_FindsThemAgainWithTheirMembers()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 20);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_b", 20);
        var id = await app.AddDeploymentAsync(prefix, null, $"{prefix}_tenant_*");
        var set = await app.BackUpSetAsync(id);
        var memberIds = set.Members.Select(m => m.BackupId).ToList();
        await using (var db = await app.DbAsync())
        {
            await db.Backups.Where(b => memberIds.Contains(b.Id)).ExecuteUpdateAsync(s => s.SetProperty(b => b.SetId, (Guid?)null));
            await db.Set<BackupSet>().Where(s => s.Id == set.Set.Id).ExecuteDeleteAsync();
            await db.Backups.Where(b => memberIds.Contains(b.Id)).ExecuteDeleteAsync();
        }

        var report = await app.Service<CatalogRebuildService>().RebuildAsync(Admin, CancellationToken.None);

        Assert.Contains(report.Sets, s => s.SetId == set.Set.Id && s.MembersFound == 2);
        var rebuilt = (await app.Service<SetService>().GetAsync(set.Set.Id, CancellationToken.None))!;
        Assert.Equal(BackupSetStatus.Succeeded, rebuilt.Set.Status);
        Assert.Equal(set.Members.Select(m => (m.Database, m.Sha256)).Order(), rebuilt.Members.Select(m => (m.Database, m.Sha256)).Order());
        Assert.Equal(set.RolesSha256, rebuilt.RolesSha256);
    }

    private static async Task ExecuteAsync(NpgsqlConnectionStringBuilder connection, string sql)
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(connection.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
