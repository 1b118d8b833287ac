using Microsoft.Extensions.Hosting;

namespace HelloJohn.Console.Core.Hosting;

/// <summary>Stops the embedded PostgreSQL cluster when the console stops, so nothing keeps running behind it.</summary>
internal sealed class EmbeddedClusterLifetime(EmbeddedDefault embedded) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => embedded.Cluster.StopAsync(cancellationToken);
}
