using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HelloJohn.Console.Core.Notifications.Senders;

/// <summary>The generic webhook: a JSON body signed with HMAC-SHA256 under the channel's secret, so the receiver can
/// prove the console sent it (<c>X-HelloJohn-Signature-256: sha256=&lt;hex&gt;</c>, GitHub's convention). The body
/// carries the delivery id and the time it was sent, so a receiver can also refuse a replay.</summary>
internal sealed class SignedWebhookSender(IHttpClientFactory clients, TimeProvider time) : INotificationSender
{
    public const string SignatureHeader = "X-HelloJohn-Signature-256";
    public const string EventHeader = "X-HelloJohn-Event";
    public const string DeliveryHeader = "X-HelloJohn-Delivery";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public bool Handles(NotificationChannelKind kind) => kind == NotificationChannelKind.Webhook;

    public Task<string> SendAsync(NotificationChannelKind kind, ChannelSettings settings, ChannelSecrets secrets, NotificationMessage message, CancellationToken ct)
    {
        var body = Body(message, time.GetUtcNow());
        var headers = new List<KeyValuePair<string, string>>(secrets.Headers)
        {
            new(EventHeader, message.EventCode),
            new(DeliveryHeader, message.DeliveryId.ToString()),
            new(SignatureHeader, Sign(secrets.SigningSecret!, body)),
        };
        return WebhookPost.PostJsonAsync(clients, secrets.Url!, body, headers, ct);
    }

    internal static byte[] Body(NotificationMessage m, DateTimeOffset sentAt) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        @event = m.EventCode,
        eventId = m.EventId,
        deliveryId = m.DeliveryId,
        severity = m.Severity.ToString().ToLowerInvariant(),
        occurredAt = m.OccurredAt,
        sentAt,
        target = m.TargetName,
        title = m.Title,
        text = m.Text,
        notTouched = m.NotTouched,
        url = m.Url,
        facts = m.Facts,
    }, Json);

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of the exact body bytes under the UTF-8 secret.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>A new signing secret: 32 random bytes, hex, prefixed so people recognise it.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    internal static string Describe(DateTimeOffset t) => t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
