using Microsoft.AspNetCore.Identity;

namespace HelloJohn.Console.Core.Data;

/// <summary>A person who signs in to the console. Accounts are local: the console never depends on HelloJohn to sign in.</summary>
public class ConsoleUser : IdentityUser
{
    public string? DisplayName { get; set; }
    public bool IsDisabled { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastSignInAt { get; set; }
}
