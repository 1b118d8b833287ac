using System.Text.Json;

namespace HelloJohn.Console.Core.Notifications;

public enum SmtpSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS (port 587); refused when the server does not offer it.</summary>
    StartTls,
    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,
    /// <summary>No encryption: only for a relay on the same host or network, and never with a password.</summary>
    None,
}

/// <summary>The parts of a channel that are not secret, kept as JSON beside it.</summary>
public sealed record ChannelSettings
{
    public string? SmtpHost { get; init; }
    public int SmtpPort { get; init; }
    public SmtpSecurity SmtpSecurity { get; init; }
    public string? SmtpUserName { get; init; }
    public string? From { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];
    /// <summary>SHA-256 of a private SMTP server's certificate (hex), accepted even though no public authority signed it.</summary>
    public string? TrustedCertificateSha256 { get; init; }
    /// <summary>Names of the webhook's custom headers; their values are secrets.</summary>
    public IReadOnlyList<string> HeaderNames { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ChannelSettings FromJson(string? json) =>
        string.IsNullOrWhiteSpace(json) ? new ChannelSettings() : JsonSerializer.Deserialize<ChannelSettings>(json, Json) ?? new ChannelSettings();
}

/// <summary>What is stored encrypted: the webhook URL (for Slack, Teams and Discord the URL itself is the credential),
/// the SMTP password, the webhook's custom header values and its signing secret.</summary>
public sealed record ChannelSecrets
{
    public string? Url { get; init; }
    public string? Password { get; init; }
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public string? SigningSecret { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ChannelSecrets FromJson(string json) => JsonSerializer.Deserialize<ChannelSecrets>(json, Json) ?? new ChannelSecrets();
}

/// <summary>What an administrator enters to create or change a channel. On a change, a secret left null keeps the
/// stored one: secrets are never shown, so they cannot be "left as they were" in a form.</summary>
public sealed record ChannelDraft(string Name, NotificationChannelKind Kind, bool Enabled, IReadOnlyCollection<NotificationEventKind> Events)
{
    /// <summary>Slack, Teams, Discord and webhook: where to post.</summary>
    public string? Url { get; init; }
    /// <summary>Webhook: extra headers sent with every post (an Authorization header, say). Null keeps the stored ones.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    public string? SmtpHost { get; init; }
    public int SmtpPort { get; init; } = 587;
    public SmtpSecurity SmtpSecurity { get; init; } = SmtpSecurity.StartTls;
    public string? SmtpUserName { get; init; }
    public string? SmtpPassword { get; init; }
    public string? From { get; init; }
    /// <summary>Recipients, separated by commas, semicolons or new lines.</summary>
    public string? To { get; init; }
    public string? TrustedCertificateSha256 { get; init; }
}

/// <summary>A channel as the Settings page lists it. No secret in here.</summary>
public sealed record ChannelSummary(
    Guid Id,
    string Name,
    NotificationChannelKind Kind,
    bool Enabled,
    IReadOnlyList<NotificationEventKind> Events,
    string? SecretHint,
    ChannelSettings Settings,
    DateTimeOffset UpdatedAt,
    string? UpdatedBy,
    DeliveryStatus? LastStatus,
    DateTimeOffset? LastAttemptAt);

/// <summary>A new channel. <see cref="SigningSecret"/> (webhooks) is shown this once.</summary>
public sealed record ChannelCreated(ChannelSummary Channel, string? SigningSecret);

/// <summary>One line of the delivery log, newest first.</summary>
public sealed record DeliveryLogEntry(
    Guid Id,
    Guid ChannelId,
    string ChannelName,
    string EventCode,
    string Title,
    DeliveryStatus Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? FinishedAt,
    string? LastError,
    IReadOnlyList<AttemptLogEntry> AttemptLog);

public sealed record AttemptLogEntry(int Number, DateTimeOffset StartedAt, TimeSpan Duration, bool Succeeded, string? Detail);

/// <summary>The outcome of <b>Send test</b>.</summary>
public sealed record TestResult(bool Succeeded, string Detail);

/// <summary>A channel change was refused; the message says why and that nothing changed.</summary>
public sealed class ChannelRefusedException(string message) : Exception(message);
