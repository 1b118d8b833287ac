namespace HelloJohn.Console.Core.Security;

/// <summary>One console account as the Users page lists it. Never carries a password hash or a security stamp.</summary>
public sealed record ConsoleUserSummary(
    string Id,
    string Email,
    string? DisplayName,
    string? Role,
    bool IsDisabled,
    DateTimeOffset? LockedOutUntil,
    int FailedSignIns,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSignInAt,
    AccountSecurityState Security = default)
{
    public bool IsLockedOut => LockedOutUntil is not null;
}

/// <summary>How an account signs in: whether it has no password yet (an invited one), must replace an
/// administrator's, uses a second factor, and until when its newest invite link works.</summary>
public readonly record struct AccountSecurityState(bool NoPasswordYet, bool MustChangePassword, bool TwoFactorEnabled, DateTimeOffset? InviteExpiresAt);

/// <summary>A new account, created by an administrator with an initial password they hand over (the person replaces it
/// at their first sign-in), or with none when <see cref="InitialPassword"/> is null: an invite link sets it.</summary>
public sealed record NewConsoleUser(string Email, string? DisplayName, string Role, string? InitialPassword);

/// <summary>The first administrator, created on the one-time setup page.</summary>
public sealed record FirstAdminRequest(string Email, string? DisplayName, string Password);

/// <summary>An account change was refused or failed; the message says why and what to do, and never holds a password.</summary>
public sealed class UserAdministrationException(string message) : Exception(message);

/// <summary>The one-time setup is over: an administrator exists.</summary>
public sealed class SetupClosedException()
    : Exception("Setup is closed: the console already has an administrator. Sign in, or ask an administrator for an account.");
