using System.Security.Cryptography;
using System.Text;

namespace HelloJohn.Console.Core.Security.ApiTokens;

/// <summary>Tokens look like <c>hjc_</c> followed by 43 URL-safe characters (256 random bits). The first 12 characters
/// are the prefix the console looks them up by; the whole token is only ever compared as a SHA-256.</summary>
public static class ApiTokenFormat
{
    public const string Marker = "hjc_";
    public const int PrefixLength = 12;
    private const int TokenLength = 47;

    public static string NewToken() => Marker + Base64UrlNoPadding(RandomNumberGenerator.GetBytes(32));

    public static string PrefixOf(string token) => token[..PrefixLength];

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Whether <paramref name="text"/> has a token's shape (no database lookup for anything else).</summary>
    public static bool LooksLikeToken(string? text) =>
        text is { Length: TokenLength } && text.StartsWith(Marker, StringComparison.Ordinal) && text.AsSpan(Marker.Length).IndexOfAnyExcept(UrlSafe) < 0;

    public static bool HashMatches(string token, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(HashOf(token)), Encoding.ASCII.GetBytes(storedHash));

    private static readonly System.Buffers.SearchValues<char> UrlSafe =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private static string Base64UrlNoPadding(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
