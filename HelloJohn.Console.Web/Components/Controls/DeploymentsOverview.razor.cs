using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Sets;
using HelloJohn.Console.Web.Security;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>One card per deployment on the Dashboard: databases protected, the newest good set, the age of the oldest
/// member, what failed in the latest set, and the databases found but not protected or gone.</summary>
public partial class DeploymentsOverview
{
    private IReadOnlyList<DeploymentOverview> _deployments = [];
    private Actor _actor = Actor.System;
    private bool _canAcknowledge;
    private string? _error;

    [Inject] private DeploymentOverviewService Overview { get; set; } = default!;
    [Inject] private DeploymentService Deployments { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    private DateTimeOffset Now => Time.GetUtcNow();

    protected override async Task OnInitializedAsync()
    {
        _actor = await CurrentActor.GetAsync();
        _canAcknowledge = _actor.Has(ConsolePermission.ManageSettings);
        _deployments = await Overview.ListAsync(CancellationToken.None);
    }

    private async Task AcknowledgeAsync(Guid targetId, string database)
    {
        try
        {
            await Deployments.AcknowledgeGoneAsync(_actor, targetId, database, CancellationToken.None);
            _deployments = await Overview.ListAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is DeploymentRejectedException or PermissionDeniedException or KeyNotFoundException)
        {
            _error = e.Message;
        }
    }
}
