using System.Text.Json;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Runs;

/// <summary>Carries run events between console instances through the console database (PostgreSQL NOTIFY, received on
/// the instance's own session): what this instance publishes is sent, coalesced to the latest event of each run a few
/// times a second, and what the others send is raised here.</summary>
internal sealed class RunEventRelay(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    ConsoleInstance instance,
    RunProgressNotifier notifier,
    ILogger<RunEventRelay> logger) : BackgroundService
{
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(250);

    private sealed record Wire(Guid I, RunKind K, Guid R, RunStatus S, string? P, long D, long? T);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        instance.Notified += OnNotified;
        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        instance.Notified -= OnNotified;
        return base.StopAsync(cancellationToken);
    }

    private void OnNotified(string payload)
    {
        Wire? wire;
        try
        {
            wire = JsonSerializer.Deserialize<Wire>(payload);
        }
        catch (JsonException)
        {
            return;
        }

        if (wire is not null && wire.I != instance.Id)
        {
            notifier.Raise(new RunProgress(wire.K, wire.R, wire.S, wire.P, wire.D, wire.T) { FromOtherInstance = true });
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = notifier.Outbound;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                var latest = new Dictionary<Guid, RunProgress>();
                while (reader.TryRead(out var progress))
                {
                    latest[progress.RunId] = progress;
                }

                await SendAsync(latest.Values, stoppingToken);
                await Task.Delay(Coalesce, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The console stops.
        }
    }

    private async Task SendAsync(IEnumerable<RunProgress> events, CancellationToken ct)
    {
        if (instance.Id is not { } me)
        {
            return;
        }

        var payloads = events.Select(p => JsonSerializer.Serialize(new Wire(me, p.Kind, p.RunId, p.Status, p.Phase, p.Done, p.Total))).ToArray();
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await db.Database.ExecuteSqlAsync($"SELECT pg_notify({ConsoleInstance.NotifyChannel}, p) FROM unnest({payloads}) AS p", ct);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // Other instances' pages then learn of it at their next event; nothing is lost in the catalog.
            logger.LogDebug("Could not relay {Count} run event(s): {Message}", payloads.Length, e.Message);
        }
    }
}
