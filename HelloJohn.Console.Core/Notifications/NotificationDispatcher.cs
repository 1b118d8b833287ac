using System.Diagnostics;
using System.Text.Json;
using Hangfire;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Notifications.Senders;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Sends one delivery: one attempt per call, bounded by <see cref="NotificationOptions.Timeout"/>, logged with
/// its outcome; a failed attempt schedules the next one with back-off until <see cref="NotificationOptions.MaxAttempts"/>.</summary>
public sealed class NotificationDispatcher(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IEnumerable<INotificationSender> senders,
    IDataProtectionProvider protection,
    IBackgroundJobClient jobs,
    IOptionsMonitor<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationDispatcher> logger)
{
    internal const string ProtectorPurpose = "HelloJohn.Console.Notifications.ChannelSecrets";
    private readonly IDataProtector _protector = protection.CreateProtector(ProtectorPurpose);

    /// <summary>Makes the next attempt of a pending or retrying delivery. Re-entrant: a delivery that is sending,
    /// delivered or given up is left alone.</summary>
    public async Task DeliverAsync(Guid deliveryId, CancellationToken ct)
    {
        var o = options.CurrentValue;
        var (outcome, attempt) = await AttemptAsync(deliveryId, ct);
        if (outcome is null)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var delivery = await db.Set<NotificationDelivery>().FirstAsync(d => d.Id == deliveryId, CancellationToken.None);
        var now = time.GetUtcNow();
        if (outcome.Succeeded)
        {
            delivery.Status = DeliveryStatus.Delivered;
            delivery.FinishedAt = now;
            delivery.NextAttemptAt = null;
            delivery.LastError = null;
        }
        else if (attempt < o.MaxAttempts)
        {
            var delay = o.RetryDelayAfter(attempt);
            delivery.Status = DeliveryStatus.Retrying;
            delivery.NextAttemptAt = now + delay;
            delivery.LastError = outcome.Detail;
            await db.SaveChangesAsync(CancellationToken.None);
            if (delay <= TimeSpan.Zero)
            {
                jobs.Enqueue<NotificationDeliveryJob>(j => j.RunAsync(deliveryId, CancellationToken.None));
            }
            else
            {
                jobs.Schedule<NotificationDeliveryJob>(j => j.RunAsync(deliveryId, CancellationToken.None), delay);
            }

            return;
        }
        else
        {
            delivery.Status = DeliveryStatus.Failed;
            delivery.FinishedAt = now;
            delivery.NextAttemptAt = null;
            delivery.LastError = outcome.Detail;
            logger.LogWarning("Notification delivery {DeliveryId} given up after {Attempts} attempts: {Detail}", deliveryId, attempt, outcome.Detail);
        }

        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>One attempt, now, whatever the delivery's state (<b>Send test</b>): logged like any other.</summary>
    internal async Task<TestResult> DeliverOnceAsync(Guid deliveryId, CancellationToken ct)
    {
        var (outcome, _) = await AttemptAsync(deliveryId, ct, test: true);
        outcome ??= new TestResult(false, "The channel or the message no longer exists.");
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Set<NotificationDelivery>().Where(d => d.Id == deliveryId).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, outcome.Succeeded ? DeliveryStatus.Delivered : DeliveryStatus.Failed)
            .SetProperty(d => d.FinishedAt, time.GetUtcNow())
            .SetProperty(d => d.LastError, outcome.Succeeded ? null : outcome.Detail), CancellationToken.None);
        return outcome;
    }

    private async Task<(TestResult? Outcome, int Attempt)> AttemptAsync(Guid deliveryId, CancellationToken ct, bool test = false)
    {
        NotificationDelivery? delivery;
        NotificationChannel? channel;
        int attempt;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            delivery = await db.Set<NotificationDelivery>().AsNoTracking().Include(d => d.Event).FirstOrDefaultAsync(d => d.Id == deliveryId, ct);
            if (delivery is null || (!test && delivery.Status is not (DeliveryStatus.Pending or DeliveryStatus.Retrying)))
            {
                return (null, 0);
            }

            // Claimed only from the state it was read in: two instances picking up one job send once.
            var claimed = await db.Set<NotificationDelivery>()
                .Where(d => d.Id == deliveryId && d.Status == delivery.Status && d.Attempts == delivery.Attempts)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeliveryStatus.Sending).SetProperty(d => d.Attempts, d => d.Attempts + 1), ct);
            if (claimed == 0)
            {
                return (null, 0);
            }

            attempt = delivery.Attempts + 1;
            channel = await db.Set<NotificationChannel>().AsNoTracking().FirstOrDefaultAsync(c => c.Id == delivery.ChannelId, ct);
        }

        var started = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        TestResult outcome;
        if (channel is null || (!channel.Enabled && !test))
        {
            outcome = new TestResult(false, "The channel was disabled or removed before this message was sent; it was not sent.");
        }
        else
        {
            outcome = await SendAsync(channel, Message(delivery, channel), ct);
        }

        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            db.Add(new NotificationAttempt
            {
                DeliveryId = deliveryId,
                Number = attempt,
                StartedAt = started,
                Duration = watch.Elapsed,
                Succeeded = outcome.Succeeded,
                Detail = NotificationCenter.Clip(outcome.Detail, 2000),
            });
            await db.SaveChangesAsync(CancellationToken.None);
        }

        return (outcome, attempt);
    }

    private async Task<TestResult> SendAsync(NotificationChannel channel, NotificationMessage message, CancellationToken ct)
    {
        var timeout = options.CurrentValue.Timeout;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        try
        {
            var sender = senders.First(s => s.Handles(channel.Kind));
            var settings = ChannelSettings.FromJson(channel.Settings);
            var secrets = channel.ProtectedSecrets is null ? new ChannelSecrets() : ChannelSecrets.FromJson(_protector.Unprotect(channel.ProtectedSecrets));
            var said = await sender.SendAsync(channel.Kind, settings, secrets, message, bounded.Token);
            return new TestResult(true, said);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new TestResult(false, $"No answer within {timeout.TotalSeconds:0.#} s (Notifications__Timeout); the attempt was abandoned.");
        }
        catch (NotificationSendException e)
        {
            return new TestResult(false, e.Message);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return new TestResult(false, "The channel's stored secrets could not be decrypted with this console's key ring. Enter them again under Settings → Notifications.");
        }
    }

    private NotificationMessage Message(NotificationDelivery delivery, NotificationChannel channel)
    {
        var e = delivery.Event!;
        var facts = JsonSerializer.Deserialize<Dictionary<string, string>>(e.Facts) ?? [];
        return new NotificationMessage(delivery.Id, e.Id, e.Kind, e.Severity, e.Title, e.Text, e.NotTouched,
            options.CurrentValue.LinkTo(e.LinkPath), e.TargetName, e.OccurredAt, facts);
    }
}

/// <summary>The Hangfire job of one delivery, on its own queue served by its own workers: a hanging receiver can never
/// take a worker a backup needs. Retries are scheduled by the dispatcher, which logs each attempt.</summary>
public sealed class NotificationDeliveryJob(NotificationDispatcher dispatcher)
{
    public const string Queue = "notifications";

    [Queue(Queue)]
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Notify ({0})")]
    public Task RunAsync(Guid deliveryId, CancellationToken ct) => dispatcher.DeliverAsync(deliveryId, ct);
}
