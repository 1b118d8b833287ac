using Bunit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Tests.Components;
using HelloJohn.Console.Web.Components.Controls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>The sets grid: a row per set with its members' figures, expandable to one row per database (why a failed
/// one failed, the attempt a retry replaced) and the roles file; retry, pin and cancel offered by role.</summary>
[Trait("Capability", "Sets")]
public sealed class SetsGridTests : ConsoleComponentTest
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 2, 0, 0, TimeSpan.Zero);

    public SetsGridTests()
    {
        Services.AddSingleton(new RunProgressNotifier(NullLogger<RunProgressNotifier>.Instance));
        Services.AddSingleton(TimeProvider.System);
    }

    private static BackupSetListItem Set(BackupSetStatus status, int members, int kept, int failed, string? error = null) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "production", "hellojohn_set_20261125_020000", status, BackupTrigger.Scheduled, "system", T0,
            T0, status is BackupSetStatus.Running ? null : T0.AddMinutes(3), members, kept, failed, 9_000_000, false, true, error, ["hellojohn_tenant_gone"]);

    private static BackupSetMemberItem Member(string database, BackupStatus status, string? error = null, bool retried = false) =>
        new(Guid.NewGuid(), database, $"{database}_20261125_020000.dump.zst", status, T0, T0, T0.AddSeconds(40), 3_000_000,
            status == BackupStatus.Succeeded ? 3_000_000 : null, status == BackupStatus.Succeeded ? new string('c', 64) : null,
            "schema_migrations:0004_rbac_schema_fix", error, retried, null);

    private IRenderedComponent<SetsGrid> RenderGrid(BackupSetListItem set, BackupSetDetails? details, bool canRun, List<string> clicks, bool canDelete = false) =>
        Render<SetsGrid>(ps => ps
            .Add(p => p.CanDelete, canDelete)
            .Add(p => p.OnDelete, (BackupSetListItem s) => clicks.Add("delete " + s.Name))
            .Add(p => p.Load, (_, _) => Task.FromResult(new BackupSetPage([set], 1)))
            .Add(p => p.LoadDetails, _ => Task.FromResult(details))
            .Add(p => p.CanRun, canRun)
            .Add(p => p.CanPin, canRun)
            .Add(p => p.OnRetry, (BackupSetListItem s) => clicks.Add("retry " + s.Name))
            .Add(p => p.OnPin, (BackupSetListItem s) => clicks.Add("pin " + s.Name))
            .Add(p => p.OnCancel, (BackupSetListItem s) => clicks.Add("cancel " + s.Name)));

    [Fact]
    public void PartialSet_ShowsFiguresAndRetry_ExpandedShowsEachMemberWithWhyAndTheRoles()
    {
        var set = Set(BackupSetStatus.Partial, 3, 2, 1, "1 of 3 database(s) failed: hellojohn_tenant_b (permission denied for database hellojohn_tenant_b).");
        var details = new BackupSetDetails(set,
        [
            Member("hellojohn", BackupStatus.Succeeded),
            Member("hellojohn_tenant_a", BackupStatus.Succeeded),
            Member("hellojohn_tenant_b", BackupStatus.Failed, "PostgreSQL refused the backup: permission denied for database hellojohn_tenant_b (42501)."),
            Member("hellojohn_tenant_b", BackupStatus.Failed, "earlier failure", retried: true),
        ], "hellojohn_set_20261125_020000.roles.sql", 2048, new string('d', 64), false, "Role passwords are not included: hellojohn may not read them.");
        var clicks = new List<string>();
        var cut = RenderGrid(set, details, canRun: true, clicks);

        Assert.Equal("partial: 1 failed", cut.Find("[data-testid=set-status]").TextContent.Trim());
        Assert.Equal("2 of 3 kept", cut.Find("[data-testid=set-members-count]").TextContent.Trim());
        Assert.Contains("hellojohn_tenant_gone", cut.Find("[data-testid=set-gone]").TextContent);
        cut.Find("[data-testid=retry-set]").Click();
        Assert.Equal(["retry hellojohn_set_20261125_020000"], clicks);

        cut.Find("tbody tr button").Click();

        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=set-member]").Count));
        Assert.Contains("hellojohn_tenant_b", cut.Find("[data-testid=set-error]").TextContent);
        var failed = cut.FindAll("[data-testid=set-member]").First(r => r.TextContent.Contains("permission denied", StringComparison.Ordinal));
        Assert.Equal("failed", failed.QuerySelector("[data-testid=member-status]")!.TextContent.Trim());
        Assert.Contains("earlier attempt, retried", cut.Markup);
        var roles = cut.Find("[data-testid=set-roles]").TextContent;
        Assert.Contains("kept, without passwords", roles);
        Assert.Contains("may not read them", roles);
        Assert.DoesNotContain("CREATE ROLE", cut.Markup);
    }

    [Fact]
    public void Viewer_SeesSetsWithoutRetryPinOrCancel()
    {
        var cut = RenderGrid(Set(BackupSetStatus.Partial, 3, 2, 1), null, canRun: false, []);

        Assert.Equal("partial: 1 failed", cut.Find("[data-testid=set-status]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=retry-set]"));
        Assert.Empty(cut.FindAll("[data-testid=pin-set]"));
    }

    [Fact]
    public void RunningSet_ShowsDatabasesDone()
    {
        var cut = RenderGrid(Set(BackupSetStatus.Running, 4, 1, 0) with { Phase = "Dumping databases: 1 of 4 done" }, null, canRun: true, []);

        Assert.Equal("1 of 4 databases done", cut.Find("[data-testid=set-progress]").TextContent.Trim());
        Assert.Equal("running", cut.Find("[data-testid=set-status]").TextContent.Trim());
    }

    [Fact]
    public void Delete_IsOfferedToAdministratorsOnFinishedSetsOnly()
    {
        var clicks = new List<string>();
        var cut = RenderGrid(Set(BackupSetStatus.Succeeded, 2, 2, 0), null, canRun: true, clicks, canDelete: true);
        cut.Find("[data-testid=delete-set]").Click();
        Assert.Equal(["delete hellojohn_set_20261125_020000"], clicks);

        Assert.Empty(RenderGrid(Set(BackupSetStatus.Succeeded, 2, 2, 0), null, canRun: true, [], canDelete: false).FindAll("[data-testid=delete-set]"));
        Assert.Empty(RenderGrid(Set(BackupSetStatus.Running, 2, 1, 0), null, canRun: true, [], canDelete: true).FindAll("[data-testid=delete-set]"));
        Assert.Empty(RenderGrid(Set(BackupSetStatus.Expired, 2, 2, 0), null, canRun: true, [], canDelete: true).FindAll("[data-testid=delete-set]"));
    }
}
