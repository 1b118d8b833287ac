using System.Net.Mail;
using System.Text.RegularExpressions;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Checks an administrator's channel before anything is stored; each refusal says what to fix.</summary>
internal static partial class ChannelDraftValidation
{
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Type", "Content-Length", "Transfer-Encoding", "Connection", "User-Agent",
    };

    public static void Check(ChannelDraft draft, bool creating, ChannelSecrets? stored)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(draft.Name) || draft.Name.Trim().Length > 128)
        {
            problems.Add("a name of 1 to 128 characters is needed");
        }

        if (draft.Events.Any(e => !NotificationEvents.Subscribable.Contains(e)))
        {
            problems.Add("only the listed events can be subscribed to");
        }

        if (draft.Kind == NotificationChannelKind.Email)
        {
            CheckEmail(draft, stored, problems);
        }
        else
        {
            if (draft.Url is null ? creating : !IsHttpUrl(draft.Url))
            {
                problems.Add($"the {Describe(draft.Kind)} URL must be an absolute https:// (or http://) address{(creating ? "" : "; leave it empty to keep the stored one")}");
            }

            if (draft.Headers is { } headers)
            {
                CheckHeaders(draft.Kind, headers, problems);
            }
        }

        if (problems.Count > 0)
        {
            throw new ChannelRefusedException($"The channel was not saved: {string.Join("; ", problems)}. Nothing was changed.");
        }
    }

    private static void CheckEmail(ChannelDraft draft, ChannelSecrets? stored, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(draft.SmtpHost) || Uri.CheckHostName(draft.SmtpHost.Trim()) == UriHostNameType.Unknown)
        {
            problems.Add("the SMTP server's host name is needed");
        }

        if (draft.SmtpPort is < 1 or > 65535)
        {
            problems.Add("the SMTP port must be between 1 and 65535");
        }

        if (!IsAddress(draft.From))
        {
            problems.Add("the sender (From) must be an e-mail address");
        }

        var to = Recipients(draft.To);
        if (to.Count == 0 || to.Count > 50 || to.Any(a => !IsAddress(a)))
        {
            problems.Add("1 to 50 recipient e-mail addresses are needed, separated by commas");
        }

        var hasPassword = !string.IsNullOrEmpty(draft.SmtpPassword) || (draft.SmtpPassword is null && !string.IsNullOrEmpty(stored?.Password));
        if (draft.SmtpSecurity == SmtpSecurity.None && !string.IsNullOrEmpty(draft.SmtpUserName) && hasPassword)
        {
            problems.Add("a password is only ever sent over TLS: choose STARTTLS or TLS, or leave the user name empty");
        }

        if (!string.IsNullOrWhiteSpace(draft.TrustedCertificateSha256) && NormalizeFingerprint(draft.TrustedCertificateSha256) is null)
        {
            problems.Add("the pinned certificate fingerprint must be a SHA-256 in hex (64 digits, colons allowed)");
        }
    }

    private static void CheckHeaders(NotificationChannelKind kind, IReadOnlyDictionary<string, string> headers, List<string> problems)
    {
        if (kind != NotificationChannelKind.Webhook && headers.Count > 0)
        {
            problems.Add("custom headers are for the generic webhook only");
            return;
        }

        if (headers.Count > 10)
        {
            problems.Add("at most 10 custom headers");
        }

        foreach (var (name, value) in headers)
        {
            if (!HeaderName().IsMatch(name) || ReservedHeaders.Contains(name) || name.StartsWith("X-HelloJohn-", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"'{name}' cannot be a custom header (letters, digits and dashes; not Content-Type, Host or X-HelloJohn-*)");
            }

            if (value.Contains('\r') || value.Contains('\n'))
            {
                problems.Add($"the value of '{name}' must be one line");
            }
        }
    }

    public static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && string.IsNullOrEmpty(uri.UserInfo);

    public static List<string> Recipients(string? to) =>
        [.. (to ?? "").Split([',', ';', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.OrdinalIgnoreCase)];

    private static bool IsAddress(string? address) => MailAddress.TryCreate(address?.Trim(), out var parsed) && parsed.Address == address!.Trim();

    public static string? NormalizeFingerprint(string? text)
    {
        var hex = (text ?? "").Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Trim().ToUpperInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? hex : null;
    }

    public static string Describe(NotificationChannelKind kind) => kind switch
    {
        NotificationChannelKind.Email => "e-mail",
        NotificationChannelKind.Teams => "Microsoft Teams",
        NotificationChannelKind.Webhook => "webhook",
        _ => kind.ToString(),
    };

    /// <summary>Enough of a secret URL to recognise it: scheme and host, never the path (where chat services keep the token).</summary>
    public static string UrlHint(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : "…";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
    private static partial Regex HeaderName();
}
