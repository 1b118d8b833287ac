using System.Reflection;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;

namespace HelloJohn.Console.Tests.Security;

/// <summary>The service layer refuses a caller without the permission, whatever the UI shows: a crafted request reaches
/// these methods directly. Every public Core method that takes an <see cref="Actor"/> must have a row here.</summary>
[Trait("Capability", "Security")]
[Collection(PostgresCollection.Name)]
public sealed class ServicePermissionTests(ServicePermissionTests.App app) : IClassFixture<ServicePermissionTests.App>
{
    public sealed class App(PostgresClusterFixture postgres) : SecurityAppFactory(postgres);

    private sealed record Row(string Method, ConsolePermission Needs, Func<App, Actor, string, Task> Call);

    private static readonly Row[] Table =
    [
        new("BackupService.RequestAsync", ConsolePermission.RunBackup, (a, actor, _) => a.Service<BackupService>().RequestAsync(actor, null, BackupTrigger.Manual, CancellationToken.None)),
        new("BackupService.RunNowAsync", ConsolePermission.RunBackup, (a, actor, _) => a.Service<BackupService>().RunNowAsync(actor, Guid.NewGuid(), BackupTrigger.Manual, CancellationToken.None)),
        new("BackupService.CancelAsync", ConsolePermission.CancelBackup, (a, actor, _) => a.Service<BackupService>().CancelAsync(actor, Guid.NewGuid(), CancellationToken.None)),
        new("UserAdministrationService.ListAsync", ConsolePermission.ManageUsers, (a, actor, _) => a.Service<UserAdministrationService>().ListAsync(actor, CancellationToken.None)),
        new("UserAdministrationService.CreateAsync", ConsolePermission.ManageUsers, (a, actor, _) => a.Service<UserAdministrationService>().CreateAsync(actor, new NewConsoleUser("crafted@example.test", null, ConsoleRoles.Admin, "Crafted-Pa55word!"), CancellationToken.None)),
        new("UserAdministrationService.ChangeRoleAsync", ConsolePermission.ManageUsers, (a, actor, id) => a.Service<UserAdministrationService>().ChangeRoleAsync(actor, id, ConsoleRoles.Admin, CancellationToken.None)),
        new("UserAdministrationService.DisableAsync", ConsolePermission.ManageUsers, (a, actor, id) => a.Service<UserAdministrationService>().DisableAsync(actor, id, CancellationToken.None)),
        new("UserAdministrationService.EnableAsync", ConsolePermission.ManageUsers, (a, actor, id) => a.Service<UserAdministrationService>().EnableAsync(actor, id, CancellationToken.None)),
        new("UserAdministrationService.ResetPasswordAsync", ConsolePermission.ManageUsers, (a, actor, id) => a.Service<UserAdministrationService>().ResetPasswordAsync(actor, id, "Crafted-Pa55word!", CancellationToken.None)),
        new("UserAdministrationService.UnlockAsync", ConsolePermission.ManageUsers, (a, actor, id) => a.Service<UserAdministrationService>().UnlockAsync(actor, id, CancellationToken.None)),
        new("AuditQueryService.QueryAsync", ConsolePermission.ViewAuditTrail, (a, actor, _) => a.Service<AuditQueryService>().QueryAsync(actor, AuditFilter.None, 0, 10, CancellationToken.None)),
        new("AuditQueryService.ExportCsvAsync", ConsolePermission.ViewAuditTrail, (a, actor, _) => a.Service<AuditQueryService>().ExportCsvAsync(actor, AuditFilter.None, Stream.Null, CancellationToken.None)),
    ];

    /// <summary>Methods that take an actor as the subject of what they do, not as the caller to check.</summary>
    private static readonly Dictionary<string, string> NotGuarded = new()
    {
        ["IAuditLog.RecordAsync"] = "writes down who did something; the caller has already been checked",
        ["FirstAdminSetup.CreateFirstAdminAsync"] = "runs before anyone can sign in; guarded by 'no administrator exists' under a lock (SetupTests)",
    };

    [Fact]
    public void EveryPublicCoreMethodTakingAnActor_HasARowInThePermissionTable()
    {
        var methods = typeof(Actor).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => m.GetParameters().Any(p => p.ParameterType == typeof(Actor)))
                .Select(m => $"{t.Name}.{m.Name}"))
            .Where(m => !m.StartsWith("Actor.", StringComparison.Ordinal) && !m.StartsWith("PermissionDeniedException.", StringComparison.Ordinal))
            .Distinct()
            .ToList();

        Assert.Contains("BackupService.RequestAsync", methods);
        var missing = methods.Where(m => Table.All(r => r.Method != m) && !NotGuarded.ContainsKey(m)).ToList();
        Assert.True(missing.Count == 0, "Core methods taking an Actor without a row in the permission table (demand a permission first, then add a row): " + string.Join(", ", missing));
        var stale = Table.Select(r => r.Method).Where(m => !methods.Contains(m)).ToList();
        Assert.True(stale.Count == 0, "Rows for methods that no longer exist: " + string.Join(", ", stale));
    }

    [Fact]
    public async Task EveryRow_CalledByARoleWithoutThePermission_ThrowsPermissionDeniedAndChangesNothing()
    {
        var admin = await app.AdminAsync();
        var target = await app.CreateAccountAsync(ConsoleRoles.Viewer, "target");
        var callers = new List<Actor> { new("no-role", "no-role@example.test", []) };
        callers.AddRange(ConsoleRoles.All.Select(role => new Actor($"id-{role}", $"{role.ToLowerInvariant()}@example.test", [role])));
        var users = await app.Service<UserAdministrationService>().ListAsync(admin.Actor, CancellationToken.None);
        var checkedCalls = 0;

        foreach (var row in Table)
        {
            foreach (var caller in callers.Where(c => !c.Has(row.Needs)))
            {
                var e = await Assert.ThrowsAsync<PermissionDeniedException>(() => row.Call(app, caller, target.Id));
                Assert.Equal(row.Needs, e.Permission);
                checkedCalls++;
            }
        }

        // Viewers and callers without a role were refused every change; Operators every account change.
        Assert.True(checkedCalls >= 20, $"Only {checkedCalls} refusals were checked.");
        Assert.Equal(users, await app.Service<UserAdministrationService>().ListAsync(admin.Actor, CancellationToken.None));
    }

    [Theory]
    [InlineData(ConsoleRoles.Viewer, ConsolePermission.ViewAuditTrail, true)]
    [InlineData(ConsoleRoles.Viewer, ConsolePermission.RunBackup, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RunBackup, true)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RestoreToNewDatabase, true)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RestoreInPlace, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.ManageUsers, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.ViewJobsDashboard, false)]
    [InlineData(ConsoleRoles.Operator, ConsolePermission.RevealSecret, false)]
    [InlineData(ConsoleRoles.Admin, ConsolePermission.RevealSecret, true)]
    [InlineData("Nobody", ConsolePermission.ViewHistory, false)]
    public void RoleHas_AsTheIssueSpecifies(string role, ConsolePermission permission, bool expected) =>
        Assert.Equal(expected, ConsolePermissions.RoleHas(role, permission));
}
