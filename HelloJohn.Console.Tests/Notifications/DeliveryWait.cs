using System.Text.Json;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Tests.Notifications;

/// <summary>Waits for deliveries the console makes in the background. The deadlines are hang guards only: the work itself
/// decides when these return.</summary>
public static class DeliveryWait
{
    public static readonly Actor Admin = new(Infrastructure.TestAccounts.AdminId, "admin@example.test", [ConsoleRoles.Admin]);

    /// <summary>Waits until at least <paramref name="count"/> deliveries match and all of those have finished.</summary>
    public static async Task<IReadOnlyList<DeliveryLogEntry>> ForAsync(NotificationChannelService channels, Func<DeliveryLogEntry, bool> which, int count)
    {
        IReadOnlyList<DeliveryLogEntry> found = [];
        await UntilAsync(async () =>
        {
            found = [.. (await channels.DeliveriesAsync(Admin, null, 200, CancellationToken.None)).Where(which)];
            return found.Count >= count && found.All(d => d.Status is DeliveryStatus.Delivered or DeliveryStatus.Failed);
        }, $"{count} finished deliveries");
        return found;
    }

    public static Task UntilAsync(Func<bool> done, string what) => UntilAsync(() => Task.FromResult(done()), what);

    public static async Task UntilAsync(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited two minutes for {what}.");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The generic webhook's JSON bodies the receiver got under <paramref name="path"/>.</summary>
    public static IReadOnlyList<JsonElement> Bodies(this WebhookReceiver receiver, string path) =>
        [.. receiver.At(path).Select(r => JsonDocument.Parse(r.Body).RootElement.Clone())];
}
