using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Dashboard;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Tests.Retention;
using Microsoft.Extensions.Time.Testing;

namespace HelloJohn.Console.Tests.Dashboard;

/// <summary>Every figure on the dashboard is the shown target's own.</summary>
[Trait("Capability", "Verification")]
public sealed class DashboardServiceTests(CatalogDatabaseFixture catalog) : IClassFixture<CatalogDatabaseFixture>
{
    private static readonly DateTimeOffset Now = new(2026, 5, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task LastVerification_IsTheShownTargetsNotTheNewestOfAnyTarget()
    {
        var production = await TargetAsync("production");
        var staging = await TargetAsync("staging");
        await VerificationAsync(production, "hellojohn_20260509_020000.dump", VerificationStatus.Failed, Now.AddDays(-1));
        await VerificationAsync(staging, "hellojohn_20260510_020000.dump", VerificationStatus.Passed, Now.AddHours(-1));
        var dashboard = new DashboardService(catalog.Factory, new FakeTimeProvider(Now));

        var shown = await dashboard.GetAsync(production, CancellationToken.None);
        var other = await dashboard.GetAsync(staging, CancellationToken.None);
        var none = await dashboard.GetAsync(await TargetAsync("new"), CancellationToken.None);

        Assert.Equal(("production", VerificationStatus.Failed, "hellojohn_20260509_020000.dump"), (shown.TargetName!.Split('-')[0], shown.LastVerification!.Status, shown.LastVerification.BackupFileName));
        Assert.Equal((VerificationStatus.Passed, TimeSpan.FromSeconds(30)), (other.LastVerification!.Status, other.LastVerification.Duration));
        Assert.Null(none.LastVerification);
    }

    private async Task<Guid> TargetAsync(string name)
    {
        await using var db = await catalog.Factory.CreateDbContextAsync();
        var target = new BackupTarget { Id = Guid.NewGuid(), Name = $"{name}-{Guid.NewGuid():N}"[..20], CreatedAt = Now, ConnectionSource = TargetConnectionSource.Stored };
        db.Targets.Add(target);
        await db.SaveChangesAsync();
        return target.Id;
    }

    private async Task VerificationAsync(Guid targetId, string file, VerificationStatus status, DateTimeOffset at)
    {
        await using var db = await catalog.Factory.CreateDbContextAsync();
        var id = Guid.NewGuid();
        db.Add(RunFixtures.Ended(RunKind.Verification, targetId, id, (RunStatus)status, at, at, at.AddSeconds(30)));
        db.Add(new VerificationRun { Id = id, BackupFileName = file });
        await db.SaveChangesAsync();
    }
}
