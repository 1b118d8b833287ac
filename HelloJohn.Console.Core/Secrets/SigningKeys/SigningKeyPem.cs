using System.Formats.Asn1;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace HelloJohn.Console.Core.Secrets.SigningKeys;

/// <summary>Reads HelloJohn's signing key: an Ed25519 private key in PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>,
/// as <c>openssl genpkey -algorithm ed25519</c> writes it). Every other input is refused with a
/// <see cref="InvalidSigningKeyException"/> that says what it is instead; no message repeats any of the input.</summary>
public static class SigningKeyPem
{
    public const string PrivateKeyLabel = "PRIVATE KEY";
    private const string Ed25519Oid = "1.3.101.112";

    private static readonly Dictionary<string, string> AlgorithmNames = new()
    {
        ["1.2.840.113549.1.1.1"] = "an RSA",
        ["1.2.840.113549.1.1.10"] = "an RSA-PSS",
        ["1.2.840.10045.2.1"] = "an elliptic-curve (EC)",
        ["1.2.840.10040.4.1"] = "a DSA",
        ["1.3.101.113"] = "an Ed448",
        ["1.3.101.110"] = "an X25519",
        ["1.3.101.111"] = "an X448",
    };

    private static readonly Dictionary<string, string> CurveNames = new()
    {
        ["1.2.840.10045.3.1.7"] = "P-256",
        ["1.3.132.0.34"] = "P-384",
        ["1.3.132.0.35"] = "P-521",
        ["1.3.132.0.10"] = "secp256k1",
    };

    /// <summary>Parses <paramref name="text"/> and returns the key in canonical PEM with its public half.</summary>
    /// <exception cref="InvalidSigningKeyException">The text is not an Ed25519 private key in PKCS#8 PEM.</exception>
    public static ParsedSigningKey Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidSigningKeyException(SigningKeyProblem.Empty,
                "The signing key is empty. Paste the whole PEM file (from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----) or upload it. Nothing was stored.");
        }

        // Keys kept in a one-line environment variable often carry "\n" as two characters.
        if (!text.Contains('\n') && text.Contains("\\n", StringComparison.Ordinal))
        {
            text = text.Replace("\\n", "\n", StringComparison.Ordinal);
        }

        var blocks = FindBlocks(text);
        var privateKeys = blocks.Where(b => b.Label == PrivateKeyLabel).ToList();
        if (privateKeys.Count > 1)
        {
            throw new InvalidSigningKeyException(SigningKeyProblem.SeveralKeys,
                $"The text holds {privateKeys.Count} private keys. Import the one HelloJohn uses (the value of HELLOJOHN_JWT_SIGNING_KEY) on its own. Nothing was stored.");
        }

        if (privateKeys.Count == 0)
        {
            throw NoPrivateKey(text, blocks);
        }

        var der = privateKeys[0].Der;
        CheckAlgorithm(der);
        if (!Key.TryImport(SignatureAlgorithm.Ed25519, der, KeyBlobFormat.PkixPrivateKey, out var key,
                new KeyCreationParameters { ExportPolicy = KeyExportPolicies.None }) || key is null)
        {
            throw new InvalidSigningKeyException(SigningKeyProblem.Malformed,
                "The PEM says it is an Ed25519 private key, but its contents are not a valid 32-byte Ed25519 key (the file may be truncated or edited). Nothing was stored. Take the key from the original file or from HELLOJOHN_JWT_SIGNING_KEY again.");
        }

        using (key)
        {
            try
            {
                var publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
                return new ParsedSigningKey(PemEncoding.WriteString(PrivateKeyLabel, der) + "\n", publicKey);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(der);
            }
        }
    }

    /// <summary>A new Ed25519 key pair from libsodium's generator, already in canonical PEM.</summary>
    public static ParsedSigningKey Generate()
    {
        using var key = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var der = key.Export(KeyBlobFormat.PkixPrivateKey);
        try
        {
            return new ParsedSigningKey(PemEncoding.WriteString(PrivateKeyLabel, der) + "\n", key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    private static void CheckAlgorithm(byte[] der)
    {
        string oid;
        string? parameterOid = null;
        try
        {
            var info = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            info.ReadInteger();
            var algorithm = info.ReadSequence();
            oid = algorithm.ReadObjectIdentifier();
            if (algorithm.HasData && algorithm.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
            {
                parameterOid = algorithm.ReadObjectIdentifier();
            }
        }
        catch (AsnContentException)
        {
            throw new InvalidSigningKeyException(SigningKeyProblem.Malformed,
                "The -----BEGIN PRIVATE KEY----- block does not contain a PKCS#8 key (its contents are damaged or are something else). Nothing was stored.");
        }

        if (oid == Ed25519Oid)
        {
            return;
        }

        var what = AlgorithmNames.GetValueOrDefault(oid, $"an unknown (OID {oid})");
        if (parameterOid is not null && CurveNames.TryGetValue(parameterOid, out var curve))
        {
            what += $" {curve}";
        }

        throw new InvalidSigningKeyException(SigningKeyProblem.NotEd25519,
            $"This is {what} private key, not an Ed25519 one. HelloJohn signs its JWTs with Ed25519 (EdDSA), so this key cannot be its signing key. Nothing was stored. Import the key from HELLOJOHN_JWT_SIGNING_KEY, or generate a new Ed25519 pair here.");
    }

    private static InvalidSigningKeyException NoPrivateKey(string text, List<PemBlock> blocks)
    {
        var labels = blocks.Select(b => b.Label).ToList();
        if (labels.Contains("PUBLIC KEY"))
        {
            return new InvalidSigningKeyException(SigningKeyProblem.PublicKey,
                "This is a public key (-----BEGIN PUBLIC KEY-----). The escrow needs the private key (-----BEGIN PRIVATE KEY-----): only it can sign tokens, and the public half is derived from it. Nothing was stored.");
        }

        if (labels.Contains("CERTIFICATE"))
        {
            return new InvalidSigningKeyException(SigningKeyProblem.PublicKey,
                "This is a certificate, which holds only a public key. The escrow needs the Ed25519 private key (-----BEGIN PRIVATE KEY-----). Nothing was stored.");
        }

        if (labels.Contains("ENCRYPTED PRIVATE KEY"))
        {
            return new InvalidSigningKeyException(SigningKeyProblem.Encrypted,
                "This private key is encrypted with a passphrase; HelloJohn reads an unencrypted PKCS#8 key. Nothing was stored. Decrypt it first (openssl pkey -in key.pem -out plain.pem) and import the result.");
        }

        if (labels.Contains("RSA PRIVATE KEY"))
        {
            return new InvalidSigningKeyException(SigningKeyProblem.NotEd25519,
                "This is an RSA private key (PKCS#1), not an Ed25519 one. HelloJohn signs its JWTs with Ed25519 (EdDSA), so this cannot be its signing key. Nothing was stored.");
        }

        if (labels.Contains("EC PRIVATE KEY"))
        {
            return new InvalidSigningKeyException(SigningKeyProblem.NotEd25519,
                "This is an elliptic-curve (EC) private key, not an Ed25519 one. HelloJohn signs its JWTs with Ed25519 (EdDSA), so this cannot be its signing key. Nothing was stored.");
        }

        if (labels.Contains("OPENSSH PRIVATE KEY"))
        {
            return new InvalidSigningKeyException(SigningKeyProblem.WrongFormat,
                "This is an OpenSSH private key. HelloJohn's signing key is an Ed25519 key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----). Nothing was stored.");
        }

        if (blocks.Count > 0)
        {
            return new InvalidSigningKeyException(SigningKeyProblem.WrongFormat,
                $"The PEM holds {string.Join(", ", labels.Distinct().Select(l => $"'{l}'"))} but no private key. HelloJohn's signing key starts with -----BEGIN PRIVATE KEY-----. Nothing was stored.");
        }

        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return new InvalidSigningKeyException(SigningKeyProblem.Malformed,
                "The text has a -----BEGIN line but no complete PEM block: it is cut short, its END line does not match, or its base64 was altered. Nothing was stored. Copy the whole file again.");
        }

        return new InvalidSigningKeyException(SigningKeyProblem.NotPem,
            "This is not a PEM key: there is no -----BEGIN PRIVATE KEY----- block. HelloJohn's signing key is an Ed25519 private key in PKCS#8 PEM, as written by 'openssl genpkey -algorithm ed25519'. Nothing was stored.");
    }

    private static List<PemBlock> FindBlocks(string text)
    {
        var blocks = new List<PemBlock>();
        var remaining = text.AsSpan();
        while (PemEncoding.TryFind(remaining, out var fields))
        {
            var der = new byte[fields.DecodedDataLength];
            if (Convert.TryFromBase64Chars(remaining[fields.Base64Data], der, out var written))
            {
                blocks.Add(new PemBlock(remaining[fields.Label].ToString(), der[..written]));
            }

            remaining = remaining[fields.Location.End..];
        }

        return blocks;
    }

    private sealed record PemBlock(string Label, byte[] Der)
    {
        public override string ToString() => $"PemBlock {{ Label = {Label} }}";
    }
}

/// <summary>An Ed25519 signing key that passed <see cref="SigningKeyPem.Parse"/>: its canonical PEM and raw public key.
/// <see cref="ToString"/> shows only the fingerprint.</summary>
public sealed class ParsedSigningKey(string pem, byte[] publicKey)
{
    public string Pem { get; } = pem;

    /// <summary>The 32-byte Ed25519 public key (the JWK's <c>x</c>).</summary>
    public ReadOnlyMemory<byte> PublicKey { get; } = publicKey;

    public string Fingerprint { get; } = JwkThumbprint.ForEd25519(publicKey);

    public override string ToString() => $"Ed25519 signing key {Fingerprint}";
}

public enum SigningKeyProblem
{
    Empty,
    NotPem,
    PublicKey,
    NotEd25519,
    Encrypted,
    WrongFormat,
    Malformed,
    SeveralKeys,
    TooLarge,
}

/// <summary>The input is not a usable HelloJohn signing key. The message says what it is instead and never quotes it.</summary>
public sealed class InvalidSigningKeyException(SigningKeyProblem problem, string message) : Exception(message)
{
    public SigningKeyProblem Problem { get; } = problem;
}
