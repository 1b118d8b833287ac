using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace HelloJohn.Console.Core.Secrets.SigningKeys;

/// <summary>RFC 7638 JWK thumbprints of Ed25519 public keys (RFC 8037 OKP form): SHA-256 over the required members in
/// lexicographic order without white space, base64url without padding. This is how a key is shown and compared.</summary>
public static class JwkThumbprint
{
    public static string ForEd25519(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != 32)
        {
            throw new ArgumentException($"An Ed25519 public key is 32 bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJwk(publicKey))));
    }

    /// <summary>The public JWK with only its required members, as the thumbprint hashes it.</summary>
    public static string CanonicalJwk(ReadOnlySpan<byte> publicKey) =>
        $"{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{Base64Url.EncodeToString(publicKey)}\"}}";
}
