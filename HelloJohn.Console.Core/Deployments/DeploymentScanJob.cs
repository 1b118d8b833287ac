using Hangfire;
using HelloJohn.Console.Core.Hosting;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Deployments;

/// <summary>Looks at one deployment's server and records what its selection picks, so the Dashboard shows new,
/// unprotected and gone databases before the next set runs.</summary>
public sealed class DeploymentScanJob(DeploymentScanner scanner, ILogger<DeploymentScanJob> logger)
{
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Look at the databases of deployment {0}")]
    public async Task RunAsync(Guid targetId, CancellationToken ct)
    {
        try
        {
            var scan = await scanner.RefreshAsync(targetId, ct);
            logger.LogInformation("Deployment {TargetId}: {Protected} database(s) protected, {NotProtected} not protected", targetId, scan.Protected.Count, scan.NotProtected.Count);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // Unreachable now: the next set says so in its own words.
            logger.LogWarning("Deployment {TargetId} could not be looked at: {Message}", targetId, e.Message);
        }
    }
}

/// <summary>At start, every deployment is looked at once in the background (never holding up the start).</summary>
internal sealed class DeploymentScanStartupTask(TargetService targets, IBackgroundJobClient jobs) : IConsoleStartupTask
{
    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var target in await targets.ListAsync(ct))
        {
            if (target.Source != TargetConnectionSource.Unset)
            {
                jobs.Enqueue<DeploymentScanJob>(j => j.RunAsync(target.Id, CancellationToken.None));
            }
        }
    }
}
