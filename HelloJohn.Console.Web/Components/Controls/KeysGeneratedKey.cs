namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>What the page keeps of a generated key pair: no private key, only what a person needs to deploy it.</summary>
public sealed record KeysGeneratedKey(string Fingerprint, string VersionId, IReadOnlyList<string> DeploySteps, bool Downloaded);

/// <summary>Times on the Keys &amp; secrets page: UTC to the minute, the same for everyone reading an incident together.</summary>
internal static class KeysFormat
{
    public static string When(DateTimeOffset at) => $"{at.UtcDateTime:yyyy-MM-dd HH:mm} UTC";
}
