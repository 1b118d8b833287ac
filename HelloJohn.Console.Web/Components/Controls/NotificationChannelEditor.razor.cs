using HelloJohn.Console.Core.Notifications;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>The form that adds or changes a notification channel. Secrets are never filled in: an empty secret field
/// on a change keeps what is stored.</summary>
public partial class NotificationChannelEditor
{
    private NotificationChannelKind _kind = NotificationChannelKind.Slack;
    private string? _name;
    private bool _enabled = true;
    private string? _url;
    private string? _headers;
    private string? _smtpHost;
    private int _smtpPort = 587;
    private SmtpSecurity _security = SmtpSecurity.StartTls;
    private string? _userName;
    private string? _password;
    private string? _from;
    private string? _to;
    private string? _fingerprint;
    private HashSet<NotificationEventKind> _events = [.. NotificationEvents.DefaultSubscriptions];

    /// <summary>The channel being changed; null for a new one.</summary>
    [Parameter] public ChannelSummary? Existing { get; set; }

    /// <summary>Called with the draft when Save is pressed.</summary>
    [Parameter] public EventCallback<ChannelDraft> OnSave { get; set; }

    /// <summary>Called when Cancel is pressed.</summary>
    [Parameter] public EventCallback OnCancel { get; set; }

    /// <summary>True while the page saves: the buttons wait.</summary>
    [Parameter] public bool Busy { get; set; }

    protected override void OnInitialized()
    {
        if (Existing is not { } c)
        {
            return;
        }

        _kind = c.Kind;
        _name = c.Name;
        _enabled = c.Enabled;
        _events = [.. c.Events];
        _smtpHost = c.Settings.SmtpHost;
        _smtpPort = c.Settings.SmtpPort == 0 ? 587 : c.Settings.SmtpPort;
        _security = c.Settings.SmtpSecurity;
        _userName = c.Settings.SmtpUserName;
        _from = c.Settings.From;
        _to = string.Join(", ", c.Settings.To);
        _fingerprint = c.Settings.TrustedCertificateSha256;
    }

    private void Toggle(NotificationEventKind kind, bool on)
    {
        if (on)
        {
            _events.Add(kind);
        }
        else
        {
            _events.Remove(kind);
        }
    }

    private Task SaveAsync()
    {
        var editing = Existing is not null;
        var draft = new ChannelDraft(_name ?? "", _kind, _enabled, [.. _events])
        {
            Url = string.IsNullOrWhiteSpace(_url) ? (editing ? null : "") : _url.Trim(),
            Headers = string.IsNullOrWhiteSpace(_headers) ? (editing ? null : new Dictionary<string, string>()) : ParseHeaders(_headers),
            SmtpHost = _smtpHost,
            SmtpPort = _smtpPort,
            SmtpSecurity = _security,
            SmtpUserName = _userName,
            SmtpPassword = string.IsNullOrEmpty(_password) ? (editing ? null : "") : _password,
            From = _from,
            To = _to,
            TrustedCertificateSha256 = _fingerprint,
        };
        return OnSave.InvokeAsync(draft);
    }

    /// <summary>"Name: value" lines; a line without a colon becomes a header with an empty value, which validation refuses by name.</summary>
    internal static Dictionary<string, string> ParseHeaders(string text)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':');
            headers[colon < 0 ? line : line[..colon].Trim()] = colon < 0 ? "" : line[(colon + 1)..].Trim();
        }

        return headers;
    }

    private string HeaderNames() => Existing?.Settings.HeaderNames is { Count: > 0 } names ? string.Join(", ", names) : "none";

    internal static string KindLabel(NotificationChannelKind kind) => kind switch
    {
        NotificationChannelKind.Email => "E-mail (SMTP)",
        NotificationChannelKind.Teams => "Microsoft Teams",
        NotificationChannelKind.Webhook => "Webhook (signed JSON)",
        _ => kind.ToString(),
    };
}
