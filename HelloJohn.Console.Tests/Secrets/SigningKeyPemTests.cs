using System.Security.Cryptography;
using HelloJohn.Console.Core.Secrets.SigningKeys;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
public sealed class SigningKeyPemTests
{
    [Fact]
    public void ForEd25519_Rfc8037Key_GivesPublishedThumbprint()
    {
        Assert.Equal(TestKeys.Rfc8037Thumbprint, JwkThumbprint.ForEd25519(TestKeys.FromBase64Url(TestKeys.Rfc8037X)));
    }

    [Fact]
    public void Parse_Rfc8037PrivateKey_DerivesPublishedPublicKeyAndThumbprint()
    {
        var key = SigningKeyPem.Parse(TestKeys.Rfc8037Pem());

        Assert.Equal(TestKeys.Rfc8037X, TestKeys.ToBase64Url(key.PublicKey.ToArray()));
        Assert.Equal(TestKeys.Rfc8037Thumbprint, key.Fingerprint);
    }

    [Fact]
    public void Parse_OpenSslKey_FingerprintEqualsOneComputedByHandFromOpenSslPublicKey()
    {
        var expected = TestKeys.ThumbprintByHand(Convert.FromHexString(TestKeys.OpenSslEd25519PublicKeyHex));

        var key = SigningKeyPem.Parse(TestKeys.OpenSslEd25519Pem);

        Assert.Equal(TestKeys.OpenSslEd25519PublicKeyHex, Convert.ToHexStringLower(key.PublicKey.Span));
        Assert.Equal(expected, key.Fingerprint);
        Assert.Equal(43, key.Fingerprint.Length);
    }

    [Fact]
    public void Parse_CrLfAndEscapedNewlines_SameKey()
    {
        var crlf = TestKeys.OpenSslEd25519Pem.Replace("\n", "\r\n");
        var oneLine = TestKeys.OpenSslEd25519Pem.TrimEnd().Replace("\n", "\\n");

        Assert.Equal(SigningKeyPem.Parse(TestKeys.OpenSslEd25519Pem).Fingerprint, SigningKeyPem.Parse(crlf).Fingerprint);
        Assert.Equal(SigningKeyPem.Parse(TestKeys.OpenSslEd25519Pem).Fingerprint, SigningKeyPem.Parse(oneLine).Fingerprint);
    }

    [Fact]
    public void Parse_KeyWithSurroundingText_StoresOnlyCanonicalPem()
    {
        var key = SigningKeyPem.Parse("HELLOJOHN_JWT_SIGNING_KEY follows:\n" + TestKeys.OpenSslEd25519Pem + "\nend of file\n");

        Assert.Equal(TestKeys.OpenSslEd25519Pem, key.Pem);
    }

    [Fact]
    public void Generate_NewPair_ParsesBackToSameFingerprint()
    {
        var generated = SigningKeyPem.Generate();

        var parsed = SigningKeyPem.Parse(generated.Pem);

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", generated.Pem);
        Assert.Equal(generated.Fingerprint, parsed.Fingerprint);
        Assert.Equal(TestKeys.ThumbprintByHand(parsed.PublicKey.ToArray()), parsed.Fingerprint);
        Assert.NotEqual(generated.Fingerprint, SigningKeyPem.Generate().Fingerprint);
    }

    [Fact]
    public void ToString_ParsedKey_ShowsFingerprintOnly()
    {
        var key = SigningKeyPem.Parse(TestKeys.OpenSslEd25519Pem);

        Assert.DoesNotContain(TestKeys.OpenSslEd25519Body, key.ToString());
        Assert.Contains(key.Fingerprint, key.ToString());
    }

    public static TheoryData<string, string, SigningKeyProblem, string> BadInputs()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ec384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        // The start of an OpenSSH key file: its magic string and the "none" cipher and KDF.
        var openSshLike = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("openssh-key-v1\0\0\0\0\u0004none\0\0\0\u0004none")) + "\n-----END OPENSSH PRIVATE KEY-----\n";
        // SubjectPublicKeyInfo of the OpenSSL test key: the fixed 12-byte Ed25519 prefix, then the public key.
        var edPublic = "-----BEGIN PUBLIC KEY-----\n" + Convert.ToBase64String(Convert.FromHexString("302a300506032b6570032100" + TestKeys.OpenSslEd25519PublicKeyHex)) + "\n-----END PUBLIC KEY-----\n";
        return new TheoryData<string, string, SigningKeyProblem, string>
        {
            { "empty", "", SigningKeyProblem.Empty, "empty" },
            { "whitespace", "  \n\t ", SigningKeyProblem.Empty, "empty" },
            { "garbage", "this is not a key at all", SigningKeyProblem.NotPem, "not a PEM key" },
            { "random bytes as base64", Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)), SigningKeyProblem.NotPem, "not a PEM key" },
            { "truncated PEM", TestKeys.OpenSslEd25519Pem[..50], SigningKeyProblem.Malformed, "no complete PEM block" },
            { "damaged PKCS#8 body", "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n", SigningKeyProblem.Malformed, "does not contain a PKCS#8 key" },
            { "Ed25519 public key", edPublic, SigningKeyProblem.PublicKey, "This is a public key" },
            { "RSA public key", rsa.ExportSubjectPublicKeyInfoPem(), SigningKeyProblem.PublicKey, "This is a public key" },
            { "RSA PKCS#8 private key", rsa.ExportPkcs8PrivateKeyPem(), SigningKeyProblem.NotEd25519, "This is an RSA private key" },
            { "RSA PKCS#1 private key", rsa.ExportRSAPrivateKeyPem(), SigningKeyProblem.NotEd25519, "RSA private key (PKCS#1)" },
            { "EC P-256 PKCS#8 private key", ec.ExportPkcs8PrivateKeyPem(), SigningKeyProblem.NotEd25519, "elliptic-curve (EC) P-256 private key" },
            { "EC P-384 SEC1 private key", ec384.ExportECPrivateKeyPem(), SigningKeyProblem.NotEd25519, "elliptic-curve (EC) private key" },
            { "Ed448 private key", TestKeys.Ed448Pem, SigningKeyProblem.NotEd25519, "Ed448" },
            { "encrypted private key", TestKeys.EncryptedEd25519Pem, SigningKeyProblem.Encrypted, "encrypted with a passphrase" },
            { "OpenSSH private key", openSshLike, SigningKeyProblem.WrongFormat, "OpenSSH" },
            { "certificate request only", "-----BEGIN CERTIFICATE REQUEST-----\nAAECAwQF\n-----END CERTIFICATE REQUEST-----\n", SigningKeyProblem.WrongFormat, "no private key" },
            { "two private keys", TestKeys.OpenSslEd25519Pem + TestKeys.Rfc8037Pem(), SigningKeyProblem.SeveralKeys, "2 private keys" },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Parse_BadInput_ThrowsClearErrorWithoutQuotingInput(string description, string input, SigningKeyProblem problem, string messagePart)
    {
        var e = Assert.Throws<InvalidSigningKeyException>(() => SigningKeyPem.Parse(input));

        Assert.True(e.Problem == problem, $"{description}: expected {problem}, got {e.Problem}: {e.Message}");
        Assert.Contains(messagePart, e.Message);
        Assert.Contains("Nothing was stored", e.Message);
        Assert.Null(e.InnerException);
        foreach (var line in input.Split('\n').Select(l => l.Trim()).Where(l => l.Length >= 8 && !l.StartsWith("-----", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain(line, e.Message);
        }
    }
}
