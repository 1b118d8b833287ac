using System.ComponentModel.DataAnnotations;

namespace HelloJohn.Console.Core.Security;

/// <summary>Session settings (section <c>Security</c>, environment <c>Security__…</c>).</summary>
public sealed class ConsoleSecurityOptions
{
    public const string Section = "Security";

    /// <summary>Security__SessionRevalidationInterval: how often a signed-in session's cookie is checked against the
    /// database. The default, zero, checks it on every request, so a disabled user, a role change or a password reset
    /// ends existing sessions at once; open pages are re-checked at least every 10 seconds and, on this instance, told
    /// at once. Whatever this says, every guarded action re-reads the account before it runs.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Security__SessionRevalidationInterval must be between 00:00:00 and 01:00:00 (hh:mm:ss).")]
    public TimeSpan SessionRevalidationInterval { get; set; } = TimeSpan.Zero;

    /// <summary>Security__InviteLifetime: how long a one-time invite link stays valid.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00", ErrorMessage = "Security__InviteLifetime must be between 00:05:00 and 30.00:00:00 (d.hh:mm:ss).")]
    public TimeSpan InviteLifetime { get; set; } = TimeSpan.FromHours(72);
}
