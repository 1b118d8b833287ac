using System.Text;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Targets;

namespace HelloJohn.Console.Core.Secrets;

/// <summary>The names under which a target's secrets are escrowed. Each target gets its own folder (staging and
/// production have different signing keys); the store adds its configured prefix, so in AWS the production key is
/// <c>hellojohn/production/jwt-signing-key</c>.</summary>
public static partial class SecretNames
{
    public const string SigningKeyLeaf = "jwt-signing-key";
    public const string ConfigurationLeaf = "environment";

    public static string SigningKey(BackupTarget target) => $"{Folder(target)}/{SigningKeyLeaf}";

    public static string Configuration(BackupTarget target) => $"{Folder(target)}/{ConfigurationLeaf}";

    /// <summary>The target's name reduced to the characters secret names allow, lower case.</summary>
    public static string Folder(BackupTarget target)
    {
        var folder = new StringBuilder(target.Name.Length);
        foreach (var c in target.Name.Trim().ToLowerInvariant())
        {
            folder.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '.' or '-' ? c : '-');
        }

        var result = folder.ToString().Trim('-');
        return result.Length == 0 ? target.Id.ToString("N") : result;
    }

    /// <summary>Throws unless <paramref name="name"/> follows AWS's rule for secret names, which both stores apply so
    /// that a secret can move from one to the other.</summary>
    public static void Validate(string name)
    {
        if (name.Length is 0 or > 384 || !NamePattern().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a valid secret name: use 1 to 384 letters, digits and / _ + = . @ - characters.", nameof(name));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9/_+=.@-]+$")]
    private static partial Regex NamePattern();
}
