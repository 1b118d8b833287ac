namespace HelloJohn.Console.Core.Security;

/// <summary>The three roles of the console. Admin can do everything, Operator runs backups, verifications,
/// restores into new databases and recovery wizards, Viewer only reads.</summary>
public static class ConsoleRoles
{
    public const string Admin = "Admin";
    public const string Operator = "Operator";
    public const string Viewer = "Viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Operator, Viewer];
}
