using System.Text;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Secrets.Jwks;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Secrets.SigningKeys;

/// <summary>Escrow of HelloJohn's Ed25519 JWT signing key: import, generate, describe. The private key goes only to the
/// secret store; the console database keeps its public facts (fingerprint, version, who and when).</summary>
public sealed class SigningKeyService(
    ISecretStore store,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IAuditLog audit,
    CallerGate gate,
    TimeProvider time,
    ILogger<SigningKeyService> logger)
{
    /// <summary>A PEM Ed25519 key is about 120 bytes; anything this large is not one.</summary>
    public const int MaxFileBytes = 64 * 1024;

    /// <summary>The most pasted text taken (the paste box stops there, so text this long was probably cut).</summary>
    public const int MaxPastedChars = MaxFileBytes;

    public const string Algorithm = "EdDSA";
    public const string Curve = "Ed25519";

    /// <summary>Checks and stores the pasted PEM as a new version of the target's signing key.</summary>
    /// <exception cref="InvalidSigningKeyException">Not an Ed25519 private key in PKCS#8 PEM; nothing was stored.</exception>
    /// <exception cref="SecretStoreException">The store refused or could not be reached; nothing was recorded.</exception>
    public async Task<SigningKeyStatus> ImportAsync(Actor actor, Guid targetId, string pemText, CancellationToken ct = default)
    {
        var target = await gate.DemandThenRequireTargetAsync(audit, dbFactory, actor, ConsolePermission.ManageSecrets, AuditActions.SigningKeyImported, targetId, SecretNames.SigningKey, ct);
        var secretName = SecretNames.SigningKey(target);
        return await audit.AuditedAsync(actor, AuditActions.SigningKeyImported, secretName, async () =>
        {
            if (pemText.Length >= MaxPastedChars)
            {
                throw new InvalidSigningKeyException(SigningKeyProblem.TooLarge,
                    $"The pasted text is {pemText.Length:N0} characters, the most this box takes is {MaxPastedChars:N0} (a longer paste is cut there), and an Ed25519 private key in PEM is about 120. Nothing was stored. Paste the key alone, or upload its file.");
            }

            var key = SigningKeyPem.Parse(pemText);
            var status = await EscrowAsync(actor, target, key, SigningKeyOrigin.Imported, ct);
            return (status, $"Imported Ed25519 key {status.Fingerprint} as version {status.VersionId} ({store.Kind}).");
        }, ct);
    }

    /// <summary>Like <see cref="ImportAsync(Actor, Guid, string, CancellationToken)"/> for an uploaded file, read up to
    /// <see cref="MaxFileBytes"/>.</summary>
    public async Task<SigningKeyStatus> ImportFileAsync(Actor actor, Guid targetId, Stream file, CancellationToken ct = default)
    {
        var target = await gate.DemandThenRequireTargetAsync(audit, dbFactory, actor, ConsolePermission.ManageSecrets, AuditActions.SigningKeyImported, targetId, SecretNames.SigningKey, ct);
        var secretName = SecretNames.SigningKey(target);
        return await audit.AuditedAsync(actor, AuditActions.SigningKeyImported, secretName, async () =>
        {
            var text = await ReadSmallTextAsync(file, ct);
            var key = SigningKeyPem.Parse(text);
            var status = await EscrowAsync(actor, target, key, SigningKeyOrigin.Imported, ct);
            return (status, $"Imported Ed25519 key {status.Fingerprint} from a file as version {status.VersionId} ({store.Kind}).");
        }, ct);
    }

    /// <summary>Generates a new Ed25519 pair and escrows it as a new version. The private key is returned this once,
    /// for download; it is not shown again except through <see cref="RevealAsync"/>.</summary>
    public async Task<GeneratedSigningKey> GenerateAsync(Actor actor, Guid targetId, CancellationToken ct = default)
    {
        var target = await gate.DemandThenRequireTargetAsync(audit, dbFactory, actor, ConsolePermission.ManageSecrets, AuditActions.SigningKeyGenerated, targetId, SecretNames.SigningKey, ct);
        var secretName = SecretNames.SigningKey(target);
        return await audit.AuditedAsync(actor, AuditActions.SigningKeyGenerated, secretName, async () =>
        {
            var key = SigningKeyPem.Generate();
            var status = await EscrowAsync(actor, target, key, SigningKeyOrigin.Generated, ct);
            var generated = new GeneratedSigningKey(status, key.Pem, DeploySteps(target, status));
            return (generated, $"Generated Ed25519 key {status.Fingerprint} as version {status.VersionId} ({store.Kind}); the private key was handed to {actor.Name} for a one-time download.");
        }, ct);
    }

    /// <summary>Reads an escrowed private key back (the current version, or <paramref name="versionId"/>), for the
    /// "signing key lost" recovery. Admin only, audited.</summary>
    public async Task<RevealedSigningKey> RevealAsync(Actor actor, Guid targetId, string? versionId = null, CancellationToken ct = default)
    {
        var target = await gate.DemandThenRequireTargetAsync(audit, dbFactory, actor, ConsolePermission.RevealSecret, AuditActions.SigningKeyDownloaded, targetId, SecretNames.SigningKey, ct);
        var secretName = SecretNames.SigningKey(target);
        return await audit.AuditedAsync(actor, AuditActions.SigningKeyDownloaded, secretName, async () =>
        {
            var value = await store.GetAsync(secretName, versionId, ct)
                ?? throw new SecretStoreException(SecretStoreFailure.NotFound,
                    versionId is null
                        ? $"No signing key is escrowed for '{target.Name}' in {store.Location}. Nothing was read. Import it first."
                        : $"Version {versionId} of the signing key of '{target.Name}' is not in {store.Location}. Nothing was read. Pick a version from the list.");
            var key = SigningKeyPem.Parse(value.Value);
            return (new RevealedSigningKey(secretName, value.VersionId, key.Fingerprint, key.Pem),
                $"Private key {key.Fingerprint} (version {value.VersionId}) read from {store.Kind} for download by {actor.Name}.");
        }, ct);
    }

    /// <summary>Audits that the private key handed out by <see cref="GenerateAsync"/> was downloaded.</summary>
    public async Task RecordDownloadAsync(Actor actor, Guid targetId, string versionId, CancellationToken ct = default)
    {
        var target = await gate.DemandThenRequireTargetAsync(audit, dbFactory, actor, ConsolePermission.ManageSecrets, AuditActions.SigningKeyDownloaded, targetId, SecretNames.SigningKey, ct);
        var secretName = SecretNames.SigningKey(target);
        await audit.RecordAsync(actor, AuditActions.SigningKeyDownloaded, secretName, AuditOutcome.Succeeded, $"Generated private key version {versionId} downloaded.", ct);
    }

    /// <summary>The current escrowed key's public facts and the last check against live; null when none is escrowed.</summary>
    public async Task<SigningKeyStatus?> GetStatusAsync(Guid targetId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var current = await db.Set<SigningKeyVersion>().AsNoTracking()
            .Where(v => v.TargetId == targetId)
            .OrderByDescending(v => v.StoredAt).ThenByDescending(v => v.Id)
            .FirstOrDefaultAsync(ct);
        if (current is null)
        {
            return null;
        }

        var lastCheck = await db.Set<JwksCheck>().AsNoTracking()
            .Where(c => c.TargetId == targetId)
            .OrderByDescending(c => c.CheckedAt)
            .FirstOrDefaultAsync(ct);
        return ToStatus(current, lastCheck is null ? null : JwksCheckResult.From(lastCheck));
    }

    /// <summary>Every escrowed version, newest first.</summary>
    public async Task<IReadOnlyList<SigningKeyStatus>> ListVersionsAsync(Guid targetId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<SigningKeyVersion>().AsNoTracking()
            .Where(v => v.TargetId == targetId)
            .OrderByDescending(v => v.StoredAt).ThenByDescending(v => v.Id)
            .ToListAsync(ct);
        return rows.Select(r => ToStatus(r, null)).ToList();
    }

    /// <summary>The current version as the store gives it back, parsed: what a restore would deploy.</summary>
    internal async Task<EscrowedSigningKey?> ReadEscrowedAsync(BackupTarget target, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var recorded = await db.Set<SigningKeyVersion>().AsNoTracking()
            .Where(v => v.TargetId == target.Id)
            .OrderByDescending(v => v.StoredAt).ThenByDescending(v => v.Id)
            .FirstOrDefaultAsync(ct);
        if (recorded is null)
        {
            return null;
        }

        if (recorded.Store != store.Kind)
        {
            throw new SecretStoreException(SecretStoreFailure.NotFound,
                $"The signing key was escrowed in {recorded.StoreLocation}, but the console now uses {store.Location}. Nothing was changed. Import the key again so that the current store holds it.");
        }

        var value = await store.GetAsync(recorded.SecretName, null, ct)
            ?? throw new SecretStoreException(SecretStoreFailure.NotFound,
                $"The signing key recorded as version {recorded.VersionId} of '{recorded.SecretName}' is no longer in {store.Location}: it was deleted outside the console. Nothing was changed. Import the key again.");
        var key = SigningKeyPem.Parse(value.Value);
        return new EscrowedSigningKey(recorded.SecretName, value.VersionId, key.Fingerprint, key.PublicKey, recorded.Fingerprint);
    }

    private async Task<SigningKeyStatus> EscrowAsync(Actor actor, BackupTarget target, ParsedSigningKey key, SigningKeyOrigin origin, CancellationToken ct)
    {
        var secretName = SecretNames.SigningKey(target);
        var version = await store.PutAsync(secretName, key.Pem, ct);
        var row = new SigningKeyVersion
        {
            Id = Guid.NewGuid(),
            TargetId = target.Id,
            SecretName = secretName,
            Store = store.Kind,
            StoreLocation = store.Location,
            VersionId = version.VersionId,
            Fingerprint = key.Fingerprint,
            PublicKey = System.Buffers.Text.Base64Url.EncodeToString(key.PublicKey.Span),
            Origin = origin,
            StoredAt = time.GetUtcNow().TruncatedToMicroseconds(),
            StoredBy = actor.Name,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Add(row);
        await db.SaveChangesAsync(CancellationToken.None);
        logger.LogInformation("Escrowed {Origin} signing key {Fingerprint} of target {TargetId} as version {VersionId} of {SecretName} ({Store})",
            origin, key.Fingerprint, target.Id, version.VersionId, secretName, store.Kind);
        return ToStatus(row, null);
    }

    private static SigningKeyStatus ToStatus(SigningKeyVersion row, JwksCheckResult? lastCheck) => new(
        row.TargetId,
        row.SecretName,
        row.Fingerprint,
        $"{{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"{row.PublicKey}\",\"alg\":\"EdDSA\",\"use\":\"sig\"}}",
        row.Store,
        row.StoreLocation,
        row.VersionId,
        row.Origin,
        row.StoredAt,
        row.StoredBy,
        lastCheck);

    private static IReadOnlyList<string> DeploySteps(BackupTarget target, SigningKeyStatus status)
    {
        var jwks = string.IsNullOrWhiteSpace(target.BaseUrl) ? "HelloJohn's /.well-known/jwks.json" : JwksCheckService.JwksUrl(target.BaseUrl).ToString();
        return
        [
            "Set HELLOJOHN_JWT_SIGNING_KEY on every HelloJohn instance to the downloaded PEM (keep its line breaks, or write them as \\n in a one-line variable).",
            "Restart the HelloJohn instances so they load the new key.",
            $"Run \"Check against live\": {jwks} must publish the key with fingerprint {status.Fingerprint}.",
            "Expect users to sign in again: tokens signed with the old key no longer verify.",
            $"Delete the downloaded file once deployed; the escrow keeps version {status.VersionId}.",
        ];
    }

    private static async Task<string> ReadSmallTextAsync(Stream file, CancellationToken ct)
    {
        var buffer = new byte[MaxFileBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await file.ReadAsync(buffer.AsMemory(total), ct)) > 0)
        {
            total += read;
        }

        if (total > MaxFileBytes)
        {
            throw new InvalidSigningKeyException(SigningKeyProblem.TooLarge,
                $"The file is larger than {MaxFileBytes / 1024} KiB; an Ed25519 PEM key is a few hundred bytes. Nothing was stored. Upload the key file itself.");
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, total);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidSigningKeyException(SigningKeyProblem.NotPem,
                "The file is binary, not a PEM text key. If it is a DER key, convert it first (openssl pkey -inform DER -in key.der -out key.pem). Nothing was stored.");
        }
        finally
        {
            Array.Clear(buffer);
        }
    }
}

/// <summary>What is known about an escrowed signing key, without the key. <see cref="Fingerprint"/> is the RFC 7638
/// JWK thumbprint of its public half.</summary>
public sealed record SigningKeyStatus(
    Guid TargetId,
    string SecretName,
    string Fingerprint,
    string PublicJwk,
    SecretStoreKind Store,
    string StoreLocation,
    string VersionId,
    SigningKeyOrigin Origin,
    DateTimeOffset StoredAt,
    string StoredBy,
    JwksCheckResult? LastCheck)
{
    public string Algorithm => SigningKeyService.Algorithm;
    public string Curve => SigningKeyService.Curve;
}

/// <summary>A freshly generated pair: its status, the private key PEM to download once, and what to deploy.</summary>
public sealed record GeneratedSigningKey(SigningKeyStatus Status, string PrivateKeyPem, IReadOnlyList<string> DeploySteps)
{
    public override string ToString() => $"GeneratedSigningKey {{ Fingerprint = {Status.Fingerprint}, VersionId = {Status.VersionId}, PrivateKeyPem = *** }}";
}

public sealed record RevealedSigningKey(string SecretName, string VersionId, string Fingerprint, string PrivateKeyPem)
{
    public override string ToString() => $"RevealedSigningKey {{ SecretName = {SecretName}, VersionId = {VersionId}, Fingerprint = {Fingerprint}, PrivateKeyPem = *** }}";
}

/// <summary>The key as the store holds it now, with the fingerprint the console recorded when it was escrowed.</summary>
internal sealed record EscrowedSigningKey(string SecretName, string VersionId, string Fingerprint, ReadOnlyMemory<byte> PublicKey, string RecordedFingerprint);
