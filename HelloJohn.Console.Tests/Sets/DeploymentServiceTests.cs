using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static HelloJohn.Console.Tests.Restores.RestoreTestSupport;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>Administrators add, change and remove deployments on a real server: the connection is tried, the
/// selection evaluated, bad input refused with nothing changed, and no password ever reaches the audit trail.</summary>
[Trait("Capability", "Sets")]
[Collection(PostgresCollection.Name)]
public sealed class DeploymentServiceTests(DeploymentServiceTests.App app) : IClassFixture<DeploymentServiceTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : ConsoleAppFactory(postgres);

    private PostgresClusterFixture Postgres => app.Postgres;

    private async Task<T> WithServiceAsync<T>(Func<DeploymentService, Task<T>> call)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<DeploymentService>());
    }

    private Task<Guid> AddAsync(DeploymentDraft draft) => WithServiceAsync(s => s.AddAsync(Admin, draft, CancellationToken.None));

    private async Task<(int Targets, int Audit)> CountsAsync()
    {
        await using var db = await app.DbAsync();
        return (await db.Targets.CountAsync(), await db.AuditEvents.CountAsync(e => e.Outcome == AuditOutcome.Succeeded && e.Action.StartsWith("deployment.")));
    }

    private async Task<DeploymentRejectedException> RefusedAsync(DeploymentDraft draft, Guid? id = null)
    {
        var before = await CountsAsync();
        var refused = await Assert.ThrowsAsync<DeploymentRejectedException>(() =>
            id is { } existing ? WithServiceAsync(async s => { await s.UpdateAsync(Admin, existing, draft, CancellationToken.None); return 0; }) : AddAsync(draft));
        Assert.Contains("othing was", refused.Message);
        Assert.Equal(before, await CountsAsync());
        Assert.DoesNotContain(PostgresClusterFixture.DemoPassword, refused.Message);
        return refused;
    }

    [Fact]
    public async Task Add_PatternAndName_ProtectsWhatTheyMatchAndListsTheRestAsNotProtected()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_control", 50);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 80);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_b", 20);
        await Postgres.CreateTenantAsync($"{prefix}_other", 10);

        var preview = await WithServiceAsync(s => s.PreviewAsync(Admin, null, new DeploymentDraft(prefix, Postgres.ServerUrl(), $"{prefix}_control", $"{prefix}_tenant_*\n{prefix}_none_*", null, TargetProvider.SelfManaged), CancellationToken.None));
        Assert.Equal([$"{prefix}_control", $"{prefix}_tenant_a", $"{prefix}_tenant_b"], preview.Scan.Protected.Select(d => d.Name).Order());
        Assert.Contains(preview.Scan.NotProtected, d => d.Name == $"{prefix}_other");
        Assert.Single(preview.Warnings, w => w.Contains($"{prefix}_none_*") && w.Contains("matches no database"));

        var id = await AddAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), $"{prefix}_control", $"{prefix}_tenant_*", "https://auth.example.test/", TargetProvider.DockerCompose));

        var saved = await app.Service<TargetService>().GetAsync(id, CancellationToken.None);
        Assert.Equal(TargetConnectionSource.Stored, saved.Source);
        Assert.Equal("https://auth.example.test", saved.BaseUrl);
        Assert.Equal([$"{prefix}_control"], saved.Selection.Databases);
        var databases = await app.Service<DeploymentScanner>().DatabasesAsync(id, CancellationToken.None);
        Assert.Equal(3, databases.Count(d => d.State == DeploymentDatabaseState.Protected));
        Assert.Contains(databases, d => d.Name == $"{prefix}_other" && d.State == DeploymentDatabaseState.NotProtected);
        Assert.Equal($"{prefix}_tenant_*", databases.Single(d => d.Name == $"{prefix}_tenant_a").SelectedBy);

        await using var db = await app.DbAsync();
        var audit = await db.AuditEvents.Where(e => e.Action == AuditActions.DeploymentAdded && e.Target == prefix).SingleAsync();
        Assert.Contains($"127.0.0.1:{Postgres.Cluster.Port}", audit.Detail);
        Assert.DoesNotContain(PostgresClusterFixture.DemoPassword, audit.Detail);
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains(PostgresClusterFixture.DemoPassword, StringComparison.Ordinal));
        // Its default schedules exist: the deployment is backed up from tonight.
        Assert.Contains(await db.Set<Core.Schedules.ScheduleSetting>().Where(s => s.TargetId == id).Select(s => s.Kind).ToListAsync(), k => k == Core.Schedules.ScheduleKind.Backup);
    }

    [Fact]
    public async Task Add_SelectingNothing_IsRefusedAndAPatternMatchingNothingOnlyWarns()
    {
        var prefix = SetTestSupport.NewPrefix();
        var refused = await RefusedAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), null, $"{prefix}_tenant_*", null, TargetProvider.SelfManaged));
        Assert.Contains("selects no database", refused.Message);
        Assert.Contains($"{prefix}_tenant_*", refused.Message);
        Assert.Contains("Select at least one database", (await RefusedAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), " ", "", null, TargetProvider.SelfManaged))).Message);
    }

    [Fact]
    public async Task Add_PatternOrNameTakingTheConsoleDatabase_IsRefused()
    {
        var console = app.ConsoleDatabase.Database!;
        var byPattern = await RefusedAsync(new DeploymentDraft(SetTestSupport.NewPrefix(), Postgres.ServerUrl(), null, console[..4] + "*", null, TargetProvider.SelfManaged));
        Assert.Contains("the console's own database", byPattern.Message);
        Assert.Contains(console, byPattern.Message);
        // Reached as localhost rather than 127.0.0.1, it is still the same server.
        var byName = await RefusedAsync(new DeploymentDraft(SetTestSupport.NewPrefix(), Postgres.ServerUrl("localhost"), console, null, null, TargetProvider.SelfManaged));
        Assert.Contains("the console's own database", byName.Message);
    }

    [Fact]
    public async Task Add_OverlappingAnotherDeploymentOfTheSameServer_IsRefused()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 10);
        await AddAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), null, $"{prefix}_tenant_*", null, TargetProvider.SelfManaged));

        var sameName = await RefusedAsync(new DeploymentDraft(prefix + "-copy", Postgres.ServerUrl("localhost"), $"{prefix}_tenant_a", null, null, TargetProvider.SelfManaged));
        Assert.Contains($"{prefix} already protects the database {prefix}_tenant_a", sameName.Message);
        // A wider pattern would take the same tenants tomorrow, even with no database to share today.
        var wider = await RefusedAsync(new DeploymentDraft(prefix + "-wide", Postgres.ServerUrl(), $"{prefix}_tenant_a", $"{prefix}_*", null, TargetProvider.SelfManaged));
        Assert.Contains(prefix, wider.Message);
        Assert.Contains("A deployment named", (await RefusedAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), "hellojohn", null, null, TargetProvider.SelfManaged))).Message);
    }

    [Fact]
    public async Task Add_BadConnectionOrMissingDatabase_IsRefusedWithoutEchoingThePassword()
    {
        var prefix = SetTestSupport.NewPrefix();
        var unreachable = await RefusedAsync(new DeploymentDraft(prefix, "postgres://someone:Not-Th3-Password@127.0.0.1:1/postgres", "hellojohn", null, null, TargetProvider.SelfManaged));
        Assert.Contains("could not reach", unreachable.Message);
        Assert.DoesNotContain("Not-Th3-Password", unreachable.Message);
        var missing = await RefusedAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), $"{prefix}_typo", null, null, TargetProvider.SelfManaged));
        Assert.Contains($"no database named {prefix}_typo", missing.Message);
        Assert.Contains("has no * or ?", (await RefusedAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), null, "exact", null, TargetProvider.SelfManaged))).Message);
        Assert.Contains("http", (await RefusedAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), "hellojohn", null, "ftp://x", TargetProvider.SelfManaged))).Message);

        await using var db = await app.DbAsync();
        Assert.DoesNotContain(await db.AuditEvents.Select(e => e.Detail ?? "").ToListAsync(), d => d.Contains("Not-Th3-Password"));
        Assert.Contains(await db.AuditEvents.Where(e => e.Action == AuditActions.DeploymentAdded && e.Outcome == AuditOutcome.Failed).ToListAsync(), e => e.Target == prefix);
    }

    [Fact]
    public async Task UpdateAndRemove_KeepTheStoredConnection_RemoveNeedsTheName_AndTheEnvironmentOneIsRefused()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 10);
        await Postgres.CreateTenantAsync($"{prefix}_tenant_b", 10);
        var id = await AddAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), $"{prefix}_tenant_a", null, null, TargetProvider.SelfManaged));

        // No connection given: the stored one is kept.
        await WithServiceAsync(async s => { await s.UpdateAsync(Admin, id, new DeploymentDraft(prefix, null, null, $"{prefix}_tenant_*", null, TargetProvider.Neon), CancellationToken.None); return 0; });
        var changed = await app.Service<TargetService>().GetAsync(id, CancellationToken.None);
        Assert.Equal([$"{prefix}_tenant_*"], changed.Selection.Patterns);
        Assert.Equal(TargetProvider.Neon, changed.Provider);

        var environment = await app.DefaultTargetAsync();
        Assert.Contains("HELLOJOHN_DATABASE_URL", (await RefusedAsync(new DeploymentDraft("test", null, "hellojohn", null, null, TargetProvider.SelfManaged), environment)).Message);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => WithServiceAsync(s => s.RemoveAsync(Operator, id, prefix, CancellationToken.None)));
        await Assert.ThrowsAsync<DeploymentRejectedException>(() => WithServiceAsync(s => s.RemoveAsync(Admin, id, "wrong", CancellationToken.None)));
        Assert.Contains(prefix, (await app.Service<TargetService>().ListAsync(CancellationToken.None)).Select(t => t.Name));

        var outcome = await WithServiceAsync(s => s.RemoveAsync(Admin, id, prefix, CancellationToken.None));
        Assert.StartsWith("Removed", outcome);
        Assert.DoesNotContain(prefix, (await app.Service<TargetService>().ListAsync(CancellationToken.None)).Select(t => t.Name));
    }

    [Fact]
    public async Task Scan_DatabaseCreatedThenDropped_IsProtectedThenReportedGoneUntilAcknowledged()
    {
        var prefix = SetTestSupport.NewPrefix();
        await Postgres.CreateTenantAsync($"{prefix}_tenant_a", 10);
        var id = await AddAsync(new DeploymentDraft(prefix, Postgres.ServerUrl(), null, $"{prefix}_tenant_*", null, TargetProvider.SelfManaged));
        var scanner = app.Service<DeploymentScanner>();

        await Postgres.CreateTenantAsync($"{prefix}_tenant_new", 10);
        Assert.Contains(((await scanner.RefreshAsync(id, CancellationToken.None)).Protected), d => d.Name == $"{prefix}_tenant_new");

        await Postgres.DropDatabaseAsync($"{prefix}_tenant_a");
        await scanner.RefreshAsync(id, CancellationToken.None);
        var gone = (await scanner.DatabasesAsync(id, CancellationToken.None)).Single(d => d.Name == $"{prefix}_tenant_a");
        Assert.Equal(DeploymentDatabaseState.Gone, gone.State);
        Assert.NotNull(gone.GoneSince);
        // Still reported at the next look: nothing drops out of protection silently.
        await scanner.RefreshAsync(id, CancellationToken.None);
        Assert.Equal(DeploymentDatabaseState.Gone, (await scanner.DatabasesAsync(id, CancellationToken.None)).Single(d => d.Name == $"{prefix}_tenant_a").State);

        await WithServiceAsync(async s => { await s.AcknowledgeGoneAsync(Admin, id, $"{prefix}_tenant_a", CancellationToken.None); return 0; });
        Assert.DoesNotContain(await scanner.DatabasesAsync(id, CancellationToken.None), d => d.Name == $"{prefix}_tenant_a");
    }
}
