using System.Text.Json;

namespace HelloJohn.Console.Core.Notifications.Senders;

/// <summary>Slack, Microsoft Teams and Discord incoming webhooks: each gets the same short message in its own format.</summary>
internal sealed class ChatWebhookSender(IHttpClientFactory clients) : INotificationSender
{
    public bool Handles(NotificationChannelKind kind) => kind is NotificationChannelKind.Slack or NotificationChannelKind.Teams or NotificationChannelKind.Discord;

    public Task<string> SendAsync(NotificationChannelKind kind, ChannelSettings settings, ChannelSecrets secrets, NotificationMessage message, CancellationToken ct)
    {
        var payload = kind switch
        {
            NotificationChannelKind.Slack => Slack(message),
            NotificationChannelKind.Teams => Teams(message),
            _ => Discord(message),
        };
        return WebhookPost.PostJsonAsync(clients, secrets.Url!, JsonSerializer.SerializeToUtf8Bytes(payload), [], ct);
    }

    private static string Icon(NotificationSeverity severity) => severity switch
    {
        NotificationSeverity.Critical => "🔴",
        NotificationSeverity.Warning => "🟠",
        _ => "🟢",
    };

    /// <summary>Slack's mrkdwn: &amp;, &lt; and &gt; are the only characters to escape.</summary>
    private static string SlackEscape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    internal static object Slack(NotificationMessage m)
    {
        var lines = new List<string> { $"{Icon(m.Severity)} *{SlackEscape(m.Title)}*", SlackEscape(m.Text) };
        if (m.NotTouched is not null)
        {
            lines.Add(SlackEscape(m.NotTouched));
        }

        if (m.Url is not null)
        {
            lines.Add($"<{m.Url}|Open in the console>");
        }

        return new { text = string.Join("\n", lines) };
    }

    /// <summary>An Adaptive Card, which both Teams workflows ("Post to a channel when a webhook request is received")
    /// and the older incoming-webhook connectors accept.</summary>
    internal static object Teams(NotificationMessage m)
    {
        var body = new List<object>
        {
            new { type = "TextBlock", text = $"{Icon(m.Severity)} {m.Title}", weight = "Bolder", size = "Medium", wrap = true },
            new { type = "TextBlock", text = m.Text, wrap = true },
        };
        if (m.NotTouched is not null)
        {
            body.Add(new { type = "TextBlock", text = m.NotTouched, wrap = true, isSubtle = true });
        }

        var actions = m.Url is null ? Array.Empty<object>() : [new { type = "Action.OpenUrl", title = "Open in the console", url = m.Url }];
        return new
        {
            type = "message",
            attachments = new[]
            {
                new
                {
                    contentType = "application/vnd.microsoft.card.adaptive",
                    content = new Dictionary<string, object>
                    {
                        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                        ["type"] = "AdaptiveCard",
                        ["version"] = "1.4",
                        ["body"] = body,
                        ["actions"] = actions,
                    },
                },
            },
        };
    }

    /// <summary>An embed; mentions are switched off so a message can never ping @everyone.</summary>
    internal static object Discord(NotificationMessage m)
    {
        var description = m.NotTouched is null ? m.Text : m.Text + "\n" + m.NotTouched;
        return new
        {
            username = "HelloJohn Console",
            allowed_mentions = new { parse = Array.Empty<string>() },
            embeds = new[]
            {
                new
                {
                    title = Truncate($"{Icon(m.Severity)} {m.Title}", 256),
                    description = Truncate(description, 4000),
                    url = m.Url,
                    color = m.Severity switch { NotificationSeverity.Critical => 0xD32F2F, NotificationSeverity.Warning => 0xF57C00, _ => 0x388E3C },
                    timestamp = m.OccurredAt.UtcDateTime.ToString("O"),
                },
            },
        };
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
