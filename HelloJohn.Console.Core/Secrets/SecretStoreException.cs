namespace HelloJohn.Console.Core.Secrets;

/// <summary>A secret store could not do what was asked. The message is for people (what happened, what was not
/// touched, what to do) and never holds a secret value or credential.</summary>
public sealed class SecretStoreException(SecretStoreFailure failure, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public SecretStoreFailure Failure { get; } = failure;

    /// <summary>The store's own error code when it gave one (e.g. AWS's "AccessDeniedException").</summary>
    public string? ErrorCode { get; init; }
}

public enum SecretStoreFailure
{
    NotFound,
    AccessDenied,
    /// <summary>The credentials were not recognised, their signature was rejected, or none could be found.</summary>
    InvalidCredentials,
    /// <summary>The request was signed with a clock too far from the store's.</summary>
    ClockSkew,
    /// <summary>The endpoint could not be reached: wrong region or service URL, network down, timeout.</summary>
    Unreachable,
    /// <summary>A stored value cannot be decrypted (the Data Protection key ring that wrote it is missing).</summary>
    Unreadable,
    /// <summary>The store refused the request for another reason (its error code says which).</summary>
    Rejected,
}
