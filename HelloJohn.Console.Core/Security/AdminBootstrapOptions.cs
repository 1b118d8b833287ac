namespace HelloJohn.Console.Core.Security;

/// <summary>The first administrator, from HELLOJOHN_CONSOLE_ADMIN_EMAIL and HELLOJOHN_CONSOLE_ADMIN_PASSWORD.</summary>
public sealed class AdminBootstrapOptions
{
    public string? Email { get; set; }
    public string? Password { get; set; }
    /// <summary>On the embedded default with no admin configured, generate one and print its login once.</summary>
    public bool GenerateWhenMissing { get; set; }
}
