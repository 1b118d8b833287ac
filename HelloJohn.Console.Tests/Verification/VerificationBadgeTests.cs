using Bunit;
using HelloJohn.Console.Core.Verification;
using HelloJohn.Console.Web.Components.Controls;
using MudBlazor.Services;

namespace HelloJohn.Console.Tests.Verification;

[Trait("Capability", "Verification")]
public sealed class VerificationBadgeTests : IAsyncLifetime
{
    // Composed, not inherited: MudBlazor's services dispose only asynchronously, which xunit's Dispose() cannot do.
    private readonly BunitContext _ctx = new();
    private static readonly Guid BackupId = Guid.NewGuid();

    public Task InitializeAsync()
    {
        _ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        _ctx.Services.AddMudServices();
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _ctx.DisposeAsync().AsTask();

    public static TheoryData<VerificationBadge, string, string> Badges => new()
    {
        { VerificationBadge.Never, "never", "never" },
        { new VerificationBadge(VerificationBadgeState.Verified, DateTimeOffset.UnixEpoch, false, null), "verified", "verified" },
        { new VerificationBadge(VerificationBadgeState.Failed, DateTimeOffset.UnixEpoch, false, "The SHA-256 check failed"), "failed", "failed" },
        { new VerificationBadge(VerificationBadgeState.Verified, DateTimeOffset.UnixEpoch, true, null), "verified", "verifying…" },
        { VerificationBadge.Never with { InProgress = true }, "never", "verifying…" },
    };

    [Theory]
    [MemberData(nameof(Badges))]
    public void Render_State_ShowsItsWordAndLinksToTheBackupsRuns(VerificationBadge badge, string state, string text)
    {
        var cut = _ctx.Render<VerificationBadgeChip>(p => p.Add(x => x.BackupId, BackupId).Add(x => x.State, badge));

        var link = cut.Find("[data-testid=verification-badge]");
        Assert.Equal(state, link.GetAttribute("data-state"));
        Assert.Equal(text, link.TextContent.Trim());
        Assert.Equal($"/verification?backup={BackupId}", link.GetAttribute("href"));
    }

    [Fact]
    public void Render_Failed_ShowsTheReasonOnHover()
    {
        var cut = _ctx.Render<VerificationBadgeChip>(p => p.Add(x => x.BackupId, BackupId)
            .Add(x => x.State, new VerificationBadge(VerificationBadgeState.Failed, DateTimeOffset.UnixEpoch, false, "The SHA-256 check failed")));

        Assert.Equal("The SHA-256 check failed", cut.Find("[data-testid=verification-badge]").GetAttribute("title"));
    }
}
