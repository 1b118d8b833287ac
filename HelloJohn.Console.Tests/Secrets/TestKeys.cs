namespace HelloJohn.Console.Tests.Secrets;

/// <summary>Known keys for the Secrets tests. None of them protects anything.</summary>
internal static class TestKeys
{
    /// <summary>Made with 'openssl genpkey -algorithm ed25519'.</summary>
    public const string OpenSslEd25519Pem = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJJezks/fzZXIPJW0WREyEKXZv4NrYNXI3Ajt6lAjC8k
        -----END PRIVATE KEY-----

        """;

    /// <summary>The public half of <see cref="OpenSslEd25519Pem"/> as OpenSSL derives it
    /// ('openssl pkey -pubout -outform DER | tail -c 32').</summary>
    public const string OpenSslEd25519PublicKeyHex = "6ba06b82fcd9388a17d495585b9f4d9c0a0932b78ee2418702f599f8d23cf363";

    /// <summary>The base64 body of <see cref="OpenSslEd25519Pem"/>: the text that must never leak.</summary>
    public const string OpenSslEd25519Body = "MC4CAQAwBQYDK2VwBCIEIJJezks/fzZXIPJW0WREyEKXZv4NrYNXI3Ajt6lAjC8k";

    /// <summary>RFC 8037 appendix A.1: private key d and public key x (base64url).</summary>
    public const string Rfc8037D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    public const string Rfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    /// <summary>RFC 8037 appendix A.3: the JWK thumbprint of that key.</summary>
    public const string Rfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    /// <summary>The RFC 8037 key wrapped as PKCS#8 PEM: the fixed 16-byte Ed25519 PrivateKeyInfo prefix, then d.</summary>
    public static string Rfc8037Pem()
    {
        var der = Convert.FromHexString("302e020100300506032b657004220420").Concat(FromBase64Url(Rfc8037D)).ToArray();
        return "-----BEGIN PRIVATE KEY-----\n" + Convert.ToBase64String(der) + "\n-----END PRIVATE KEY-----\n";
    }

    /// <summary>Made with 'openssl genpkey -algorithm ed448'.</summary>
    public const string Ed448Pem = """
        -----BEGIN PRIVATE KEY-----
        MEcCAQAwBQYDK2VxBDsEOVVhvvX+uw1rJZH73e73bu7rHzYmymy/PVdD96OPf0gt
        b6kfSi6tJXq2leaSo5tYAuw11N7ujMdymg==
        -----END PRIVATE KEY-----
        """;

    /// <summary>Made with 'openssl genpkey -algorithm ed25519 -aes-256-cbc'.</summary>
    public const string EncryptedEd25519Pem = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgCB45wP62rsgICCAAw
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEENWbEOxtCPJcVKuiHZLKzJ4EQKpq
        i1uOUhW316Gm76CJJGSN5AiCv+G6R2Nh7a8NxmW4xzQVifWJt+NKp9iNQnV9c7ET
        ewD6oqIpIe9lelej/IE=
        -----END ENCRYPTED PRIVATE KEY-----
        """;

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
