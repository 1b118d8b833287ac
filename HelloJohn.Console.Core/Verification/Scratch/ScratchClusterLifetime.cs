using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Verification.Scratch;

/// <summary>At start, removes what a console that died left of its scratch clusters; at stop, stops this one's.</summary>
internal sealed class ScratchClusterLifetime(ScratchCluster scratch, ILogger<ScratchClusterLifetime> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await scratch.RemoveLeftoversAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Leftovers cost disk space, not correctness: the console starts anyway and says what is left.
            logger.LogWarning("Could not remove the scratch clusters left under {Root}: {Message}", scratch.Root, e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => scratch.StopAllAsync();
}
