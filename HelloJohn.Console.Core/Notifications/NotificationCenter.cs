using System.Text.Json;
using Hangfire;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>The one entry point for raising an event: it is recorded, and each enabled channel subscribed to its kind
/// gets a delivery queued as a job on the console's own <c>notifications</c> queue. Raising only writes to the console
/// database and enqueues: a dead or slow channel never holds up the backup, verification or restore that raised it.</summary>
public sealed class NotificationCenter(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackgroundJobClient jobs,
    IOptionsMonitor<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationCenter> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Records <paramref name="e"/> and queues its deliveries. Returns how many were queued (0 when no channel
    /// takes it, or when the same condition was sent within <see cref="NotificationOptions.RepeatAfter"/>). Never throws:
    /// what raised the event has already happened, and a notification problem is logged, not passed on.</summary>
    public async Task<int> RaiseAsync(NotificationEvent e, CancellationToken ct = default)
    {
        try
        {
            return await RaiseCoreAsync(e, ct);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The {Kind} notification '{Title}' could not be queued", NotificationEvents.Code(e.Kind), e.Title);
            return 0;
        }
    }

    /// <summary>Raises <paramref name="e"/> when the standing condition <paramref name="condition"/> begins: once, however
    /// often it is seen while it lasts, and again only after <see cref="ConditionClearedAsync"/> ended it. The condition's
    /// state is the event log itself, so it holds across restarts and console instances. True when it was raised now.</summary>
    public async Task<bool> ConditionSeenAsync(string condition, NotificationEvent e, CancellationToken ct = default)
    {
        try
        {
            if (await IsOpenAsync(condition, ct))
            {
                return false;
            }

            await RaiseCoreAsync(e with { DedupeKey = condition }, ct, repeatCheck: false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The {Kind} notification '{Title}' could not be queued", NotificationEvents.Code(e.Kind), e.Title);
            return false;
        }
    }

    /// <summary>Ends the standing condition <paramref name="condition"/> if it was raised, sending
    /// <paramref name="recovery"/> (the all-clear, to the channels of the same event). True when it ended now.</summary>
    public async Task<bool> ConditionClearedAsync(string condition, NotificationEvent recovery, CancellationToken ct = default)
    {
        try
        {
            if (!await IsOpenAsync(condition, ct))
            {
                return false;
            }

            await RaiseCoreAsync(recovery with { DedupeKey = condition + ClearedSuffix }, ct, repeatCheck: false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The all-clear '{Title}' could not be queued", recovery.Title);
            return false;
        }
    }

    private const string ClearedSuffix = "#cleared";

    private async Task<bool> IsOpenAsync(string condition, CancellationToken ct)
    {
        var cleared = condition + ClearedSuffix;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var last = await db.Set<NotificationEventRecord>().AsNoTracking()
            .Where(r => r.DedupeKey == condition || r.DedupeKey == cleared)
            .OrderByDescending(r => r.OccurredAt).Select(r => r.DedupeKey).FirstOrDefaultAsync(ct);
        return last == condition;
    }

    private async Task<int> RaiseCoreAsync(NotificationEvent e, CancellationToken ct, bool repeatCheck = true)
    {
        var now = time.GetUtcNow();
        var code = NotificationEvents.Code(e.Kind);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (repeatCheck && e.DedupeKey is { } key)
        {
            var since = now - options.CurrentValue.RepeatAfter;
            if (await db.Set<NotificationEventRecord>().AnyAsync(r => r.DedupeKey == key && r.OccurredAt > since, ct))
            {
                logger.LogDebug("{Kind} for {Key} was already sent since {Since:u}; not repeated", code, key, since);
                return 0;
            }
        }

        var record = new NotificationEventRecord
        {
            Id = Guid.NewGuid(),
            Kind = code,
            Severity = e.Severity,
            TargetId = e.TargetId,
            TargetName = e.TargetName,
            SubjectId = e.SubjectId,
            Title = Clip(e.Title, 300),
            Text = Clip(e.Text, 4000),
            NotTouched = e.NotTouched is null ? null : Clip(e.NotTouched, 1000),
            LinkPath = e.LinkPath,
            DedupeKey = e.DedupeKey,
            Store = e.Store,
            Facts = JsonSerializer.Serialize(e.Facts, Json),
            OccurredAt = now,
        };
        db.Add(record);
        var channels = await db.Set<NotificationChannel>().AsNoTracking()
            .Where(c => c.Enabled && c.Events.Contains(code))
            .Select(c => c.Id).ToListAsync(ct);
        var deliveries = channels.Select(channelId => new NotificationDelivery
        {
            Id = Guid.NewGuid(),
            EventId = record.Id,
            ChannelId = channelId,
            Status = DeliveryStatus.Pending,
            CreatedAt = now,
        }).ToList();
        db.AddRange(deliveries);
        await db.SaveChangesAsync(CancellationToken.None);
        foreach (var delivery in deliveries)
        {
            jobs.Enqueue<NotificationDeliveryJob>(j => j.RunAsync(delivery.Id, CancellationToken.None));
        }

        logger.LogInformation("Raised {Kind}: {Title}; {Count} channel(s) to tell", code, record.Title, deliveries.Count);
        return deliveries.Count;
    }

    internal static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
