using Microsoft.AspNetCore.Identity;

namespace HelloJohn.Console.Core.Data;

/// <summary>A person who signs in to the console. Accounts are local: the console never depends on HelloJohn to sign in.</summary>
public class ConsoleUser : IdentityUser
{
    public string? DisplayName { get; set; }
    public bool IsDisabled { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastSignInAt { get; set; }
    /// <summary>The password was chosen by an administrator (a new account, a reset): the person chooses their own at
    /// their next sign-in before doing anything else.</summary>
    public bool MustChangePassword { get; set; }
}
