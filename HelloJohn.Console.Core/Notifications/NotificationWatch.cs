using Hangfire;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Every few minutes: standing conditions (RPO) are checked, and deliveries a stopped console left behind
/// (queued but never picked up, or cut off while sending) are queued again.</summary>
public sealed class NotificationWatchJob(
    ConditionNotices conditions,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackgroundJobClient jobs,
    IOptionsMonitor<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationWatchJob> logger)
{
    public const string RecurringJobId = "notifications-watch";

    [Queue(NotificationDeliveryJob.Queue)]
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Watch RPO and pending notifications")]
    public async Task RunAsync(CancellationToken ct)
    {
        await conditions.CheckRpoAsync(ct);
        var now = time.GetUtcNow();
        var forgotten = now - TimeSpan.FromMinutes(10);
        var cutOff = now - options.CurrentValue.Timeout - TimeSpan.FromMinutes(5);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var stuck = await db.Set<NotificationDelivery>()
            .Where(d => (d.Status == DeliveryStatus.Pending && d.CreatedAt < forgotten)
                || (d.Status == DeliveryStatus.Retrying && d.NextAttemptAt < forgotten)
                || (d.Status == DeliveryStatus.Sending && (d.NextAttemptAt ?? d.CreatedAt) < cutOff))
            .ToListAsync(ct);
        foreach (var d in stuck)
        {
            if (d.Status == DeliveryStatus.Sending)
            {
                d.Status = DeliveryStatus.Retrying;
                d.LastError = "The console stopped during this attempt; it is tried again.";
            }

            d.NextAttemptAt = now;
        }

        await db.SaveChangesAsync(ct);
        foreach (var d in stuck)
        {
            jobs.Enqueue<NotificationDeliveryJob>(j => j.RunAsync(d.Id, CancellationToken.None));
        }

        if (stuck.Count > 0)
        {
            logger.LogWarning("Queued {Count} notification deliveries again that a stopped console left behind", stuck.Count);
        }
    }
}

/// <summary>Registers the watch with its stable id at start.</summary>
internal sealed class NotificationWatchStartupTask(IRecurringJobManager recurring, IOptions<NotificationOptions> options) : IConsoleStartupTask
{
    public Task RunAsync(CancellationToken ct)
    {
        recurring.AddOrUpdate<NotificationWatchJob>(NotificationWatchJob.RecurringJobId, j => j.RunAsync(CancellationToken.None), options.Value.WatchCron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        return Task.CompletedTask;
    }
}
