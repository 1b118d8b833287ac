using System.Text;

namespace HelloJohn.Console.Core.Notifications.Senders;

/// <summary>An event as it leaves the console for one channel.</summary>
public sealed record NotificationMessage(
    Guid DeliveryId,
    Guid EventId,
    string EventCode,
    NotificationSeverity Severity,
    string Title,
    string Text,
    string? NotTouched,
    string? Url,
    string? TargetName,
    DateTimeOffset OccurredAt,
    IReadOnlyDictionary<string, string> Facts)
{
    public string Subject => $"[HelloJohn Console] {Title}";

    /// <summary>Title, what happened, what was not touched, and the link: the whole message for e-mail and chat.</summary>
    public string PlainText()
    {
        var text = new StringBuilder().AppendLine(Text);
        if (NotTouched is not null)
        {
            text.AppendLine(NotTouched);
        }

        if (Url is not null)
        {
            text.Append("Open in the console: ").AppendLine(Url);
        }

        return text.ToString().TrimEnd();
    }
}

/// <summary>Sending failed; <see cref="Exception.Message"/> says what the receiver answered or why nothing reached it,
/// without the URL or any credential.</summary>
public sealed class NotificationSendException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Sends one message over one kind of channel, within the caller's cancellation (the attempt's timeout).</summary>
public interface INotificationSender
{
    bool Handles(NotificationChannelKind kind);

    /// <summary>Returns what the receiver said on success; throws <see cref="NotificationSendException"/> otherwise.</summary>
    Task<string> SendAsync(NotificationChannelKind kind, ChannelSettings settings, ChannelSecrets secrets, NotificationMessage message, CancellationToken ct);
}
