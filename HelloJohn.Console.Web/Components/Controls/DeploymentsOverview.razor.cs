using HelloJohn.Console.Core.Sets;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>One card per deployment on the Dashboard: databases protected, the newest good set, the age of the oldest
/// member, what failed in the latest set, and the databases found but not protected or gone.</summary>
public partial class DeploymentsOverview
{
    private IReadOnlyList<DeploymentOverview> _deployments = [];

    [Inject] private DeploymentOverviewService Overview { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    private DateTimeOffset Now => Time.GetUtcNow();

    protected override async Task OnInitializedAsync() => _deployments = await Overview.ListAsync(CancellationToken.None);
}
