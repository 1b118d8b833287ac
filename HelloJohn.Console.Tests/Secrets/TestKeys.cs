namespace HelloJohn.Console.Tests.Secrets;

/// <summary>Known keys for the Secrets tests, read from Secrets/Fixtures/Keys. None of them protects anything.</summary>
internal static class TestKeys
{
    /// <summary>Made with 'openssl genpkey -algorithm ed25519' (Secrets/Fixtures/Keys).</summary>
    public static string OpenSslEd25519Pem { get; } = Fixture("openssl-ed25519.pem");

    /// <summary>The public half of <see cref="OpenSslEd25519Pem"/> as OpenSSL derives it
    /// ('openssl pkey -pubout -outform DER | tail -c 32').</summary>
    public const string OpenSslEd25519PublicKeyHex = "6ba06b82fcd9388a17d495585b9f4d9c0a0932b78ee2418702f599f8d23cf363";

    /// <summary>The base64 body of <see cref="OpenSslEd25519Pem"/>: the text that must never leak.</summary>
    public static string OpenSslEd25519Body { get; } = OpenSslEd25519Pem.Split('\n')[1].Trim();

    /// <summary>RFC 8037 appendix A.1: private key d and public key x (base64url).</summary>
    public static string Rfc8037D { get; } = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Secrets", "Fixtures", "Keys", "rfc8037-ed25519-d.txt")).Trim();
    public const string Rfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    /// <summary>RFC 8037 appendix A.3: the JWK thumbprint of that key.</summary>
    public const string Rfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    /// <summary>The RFC 8037 key wrapped as PKCS#8 PEM: the fixed 16-byte Ed25519 PrivateKeyInfo prefix, then d.</summary>
    public static string Rfc8037Pem()
    {
        var der = Convert.FromHexString("302e020100300506032b657004220420").Concat(FromBase64Url(Rfc8037D)).ToArray();
        return "-----BEGIN PRIVATE KEY-----\n" + Convert.ToBase64String(der) + "\n-----END PRIVATE KEY-----\n";
    }

    /// <summary>Made with 'openssl genpkey -algorithm ed448' (Secrets/Fixtures/Keys).</summary>
    public static string Ed448Pem { get; } = Fixture("openssl-ed448.pem");

    /// <summary>Made with 'openssl genpkey -algorithm ed25519 -aes-256-cbc' (Secrets/Fixtures/Keys).</summary>
    public static string EncryptedEd25519Pem { get; } = Fixture("openssl-ed25519-encrypted.pem");

    /// <summary>A key file of the test fixtures, copied beside the test assembly.</summary>
    private static string Fixture(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Secrets", "Fixtures", "Keys", name));

    public static byte[] FromBase64Url(string value)
    {
        var padded = value.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }

    public static string ToBase64Url(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The RFC 7638 thumbprint computed here by hand, independently of the console's code.</summary>
    public static string ThumbprintByHand(byte[] publicKey)
    {
        var json = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" + ToBase64Url(publicKey) + "\"}";
        return ToBase64Url(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json)));
    }
}
