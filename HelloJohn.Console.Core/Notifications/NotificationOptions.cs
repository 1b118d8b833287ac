using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>How notifications are sent (section <c>Notifications</c>, environment <c>Notifications__…</c>). Channels
/// themselves are managed by administrators under Settings and kept in the console database.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>HELLOJOHN_CONSOLE_URL or Notifications__ConsoleBaseUrl: the console's address as people open it
    /// (https://backups.example.com), put in front of every link a message carries. Without it messages have no link.</summary>
    public string? ConsoleBaseUrl { get; set; }

    /// <summary>Notifications__RpoThreshold: "RPO above the threshold" is raised when a target's newest good backup
    /// started longer ago than this.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "90.00:00:00", ErrorMessage = "Notifications__RpoThreshold must be between 00:05:00 and 90.00:00:00 (d.hh:mm:ss).")]
    public TimeSpan RpoThreshold { get; set; } = TimeSpan.FromHours(26);

    /// <summary>Notifications__Timeout: how long one attempt may take (connect, TLS, send) before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Notifications__Timeout must be between 00:00:01 and 00:05:00.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Notifications__MaxAttempts: attempts per message and channel before it is given up (and shown failed).</summary>
    [Range(1, 20, ErrorMessage = "Notifications__MaxAttempts must be between 1 and 20.")]
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Notifications__RetryDelay: the wait before the first retry; each next wait is four times longer, at most
    /// two hours (30 s, 2 min, 8 min, 32 min, 2 h by default).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "02:00:00", ErrorMessage = "Notifications__RetryDelay must be between 00:00:00 and 02:00:00.")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Notifications__RepeatAfter: a standing condition (RPO too old, key mismatch) is sent again after this.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00", ErrorMessage = "Notifications__RepeatAfter must be between 00:01:00 and 30.00:00:00.")]
    public TimeSpan RepeatAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Notifications__WatchCron: how often standing conditions (RPO) are checked.</summary>
    public string WatchCron { get; set; } = "*/5 * * * *";

    public TimeSpan RetryDelayAfter(int attempt)
    {
        var delay = RetryDelay * Math.Pow(4, Math.Max(0, attempt - 1));
        return delay > TimeSpan.FromHours(2) ? TimeSpan.FromHours(2) : delay;
    }

    /// <summary>The console's own link for <paramref name="path"/>, or null without a base URL.</summary>
    public string? LinkTo(string? path) =>
        string.IsNullOrWhiteSpace(ConsoleBaseUrl) || path is null ? null : ConsoleBaseUrl.TrimEnd('/') + "/" + path.TrimStart('/');
}

internal sealed class NotificationOptionsValidation : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ConsoleBaseUrl) &&
            (!Uri.TryCreate(options.ConsoleBaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
             || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo)))
        {
            errors.Add("HELLOJOHN_CONSOLE_URL (Notifications__ConsoleBaseUrl) must be the console's absolute http:// or https:// address without query or credentials, such as https://backups.example.com.");
        }

        if (!Schedules.CronSchedule.TryParse(options.WatchCron, out _, out var cronError))
        {
            errors.Add($"Notifications__WatchCron: {cronError}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
