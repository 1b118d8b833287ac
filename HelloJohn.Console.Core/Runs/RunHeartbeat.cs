using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Runs;

/// <summary>For the runs executing on this instance, every <see cref="RunsOptions.HeartbeatInterval"/>: records that
/// they are alive and how far they are, and stops any that was cancelled on another instance or ended elsewhere
/// (a sweep that took this instance for dead).</summary>
internal sealed class RunHeartbeat(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RunLifecycle lifecycle,
    IOptionsMonitor<RunsOptions> options,
    TimeProvider time,
    ILogger<RunHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.HeartbeatInterval, time, stoppingToken);
                await BeatAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                logger.LogWarning("Could not record the heartbeat of this instance's runs: {Message}", e.Message);
            }
        }
    }

    private async Task BeatAsync(CancellationToken ct)
    {
        var claims = lifecycle.Local.All;
        if (claims.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var claim in claims)
        {
            await db.Set<RunRecord>()
                .Where(r => r.Id == claim.RunId && r.OwnerInstanceId == claim.OwnerInstanceId && r.Status == RunStatus.Running)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.HeartbeatAt, now)
                    .SetProperty(r => r.ProgressDone, claim.Done)
                    .SetProperty(r => r.ProgressTotal, claim.Total), ct);
        }

        var ids = claims.Select(c => c.RunId).ToList();
        var states = await db.Set<RunRecord>().AsNoTracking().Where(r => ids.Contains(r.Id))
            .Select(r => new { r.Id, r.Status, r.OwnerInstanceId, r.CancelRequestedBy, r.CancelRequestedAt, r.Error })
            .ToDictionaryAsync(r => r.Id, ct);
        foreach (var claim in claims)
        {
            if (!states.TryGetValue(claim.RunId, out var state))
            {
                continue;
            }

            if (state.Status != RunStatus.Running || state.OwnerInstanceId != claim.OwnerInstanceId)
            {
                claim.Stop($"It was ended elsewhere ({state.Status.ToString().ToLowerInvariant()}): {state.Error}");
            }
            else if (state.CancelRequestedAt is not null)
            {
                claim.Stop($"Cancelled by {state.CancelRequestedBy ?? "someone"}");
            }
        }
    }
}
