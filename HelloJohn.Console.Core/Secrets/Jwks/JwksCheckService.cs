using System.Buffers.Text;
using System.Net.Sockets;
using System.Text.Json;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Secrets.Jwks;

/// <summary>Compares the escrowed signing key with the keys HelloJohn publishes at
/// <c>&lt;base URL&gt;/.well-known/jwks.json</c>, and keeps each result. A failed comparison is a result, not an
/// exception: only a missing target or a cancelled request throws.</summary>
public sealed class JwksCheckService(
    IHttpClientFactory httpClients,
    SigningKeyService signingKeys,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TimeProvider time,
    ILogger<JwksCheckService> logger,
    Notifications.ConditionNotices? notices = null)
{
    public const string HttpClientName = "HelloJohn.Console.Jwks";

    /// <summary>A JWKS is a few kilobytes; a larger answer is not one and is not read further.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    public static Uri JwksUrl(string baseUrl) => new(new Uri(baseUrl.TrimEnd('/') + "/"), ".well-known/jwks.json");

    /// <summary>Runs one check for the target and stores its result. Operators and admins may ask for it; the daily
    /// job runs it as the system.</summary>
    public async Task<JwksCheckResult> CheckAsync(Actor actor, Guid targetId, CancellationToken ct = default)
    {
        actor.Demand(ConsolePermission.VerifyBackup);
        var target = await dbFactory.RequireTargetAsync(targetId, ct);
        var check = await CompareAsync(target, ct);
        check.Id = Guid.NewGuid();
        check.TargetId = target.Id;
        check.CheckedAt = time.GetUtcNow().TruncatedToMicroseconds();
        check.RequestedBy = actor.Name;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Add(check);
            await db.SaveChangesAsync(CancellationToken.None);
        }

        logger.LogInformation("JWKS check of target {TargetId}: {Outcome} (escrowed {Fingerprint})", target.Id, check.Outcome, check.EscrowedFingerprint);
        await (notices?.JwksCheckedAsync(check) ?? Task.CompletedTask);
        return JwksCheckResult.From(check);
    }

    public async Task<JwksCheckResult?> GetLastAsync(Guid targetId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var last = await db.Set<JwksCheck>().AsNoTracking()
            .Where(c => c.TargetId == targetId)
            .OrderByDescending(c => c.CheckedAt)
            .FirstOrDefaultAsync(ct);
        return last is null ? null : JwksCheckResult.From(last);
    }

    /// <summary>The newest check of every target that has one, for the dashboard.</summary>
    public async Task<IReadOnlyList<JwksCheckResult>> GetLatestPerTargetAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var latest = await db.Set<JwksCheck>().AsNoTracking()
            .GroupBy(c => c.TargetId)
            .Select(g => g.OrderByDescending(c => c.CheckedAt).First())
            .ToListAsync(ct);
        return latest.Select(JwksCheckResult.From).ToList();
    }

    private async Task<JwksCheck> CompareAsync(BackupTarget target, CancellationToken ct)
    {
        EscrowedSigningKey? escrowed;
        try
        {
            escrowed = await signingKeys.ReadEscrowedAsync(target, ct);
        }
        catch (Exception e) when (e is SecretStoreException or InvalidSigningKeyException)
        {
            return Result(JwksCheckOutcome.EscrowUnavailable, $"The escrowed signing key could not be read back: {e.Message}");
        }

        if (escrowed is null)
        {
            return Result(JwksCheckOutcome.NotConfigured, $"No signing key is escrowed for '{target.Name}' yet. Import HELLOJOHN_JWT_SIGNING_KEY or generate a new pair first.");
        }

        var drift = escrowed.Fingerprint == escrowed.RecordedFingerprint
            ? ""
            : $" Note: the store's current version {escrowed.VersionId} is not the key the console recorded ({escrowed.RecordedFingerprint}); it was changed outside the console.";

        if (string.IsNullOrWhiteSpace(target.BaseUrl) || !Uri.TryCreate(target.BaseUrl, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            return Result(JwksCheckOutcome.NotConfigured,
                $"Target '{target.Name}' has no HelloJohn base URL (http or https), so its JWKS cannot be fetched. Set the base URL in the target's settings.", escrowed);
        }

        var url = JwksUrl(target.BaseUrl);
        string body;
        try
        {
            var http = httpClients.CreateClient(HttpClientName);
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
            {
                return Result(JwksCheckOutcome.Unreachable,
                    $"HelloJohn answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} at {url}. Check that HelloJohn is running and that the base URL is right.{drift}", escrowed, url);
            }

            body = await ReadCappedAsync(response, ct);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            var reason = e is TaskCanceledException ? "no answer in time" : e.Message;
            return Result(JwksCheckOutcome.Unreachable,
                $"Could not fetch {url}: {reason}. Check that HelloJohn is running and reachable from the console, and that the base URL is right.{drift}", escrowed, url);
        }
        catch (JwksTooLargeException)
        {
            return Result(JwksCheckOutcome.Invalid, $"The answer from {url} is larger than {MaxResponseBytes / 1024} KiB, so it is not a JWKS. Check the base URL.{drift}", escrowed, url);
        }

        var published = ParsePublishedKeys(body);
        if (published is null)
        {
            return Result(JwksCheckOutcome.Invalid,
                $"The answer from {url} is not a JWKS (a JSON object with a \"keys\" array). Check the base URL: it should be HelloJohn's public address.{drift}", escrowed, url);
        }

        var fingerprints = string.Join(",", published.Select(k => k.Fingerprint));
        var match = published.FirstOrDefault(k => k.PublicKey.AsSpan().SequenceEqual(escrowed.PublicKey.Span));
        if (match is not null)
        {
            return Result(JwksCheckOutcome.Match,
                $"HelloJohn publishes the escrowed key {escrowed.Fingerprint}{(match.KeyId is null ? "" : $" as kid '{match.KeyId}'")}: tokens it signs can still be verified after a restore from the escrow.{drift}",
                escrowed, url, fingerprints, match.KeyId);
        }

        var what = published.Count == 0
            ? "publishes no Ed25519 key"
            : $"publishes {published.Count} Ed25519 key(s) ({string.Join(", ", published.Select(k => k.Fingerprint))})";
        return Result(JwksCheckOutcome.Mismatch,
            $"HelloJohn {what}, but not the escrowed key {escrowed.Fingerprint}. HelloJohn signs with a key the escrow does not hold: import the current HELLOJOHN_JWT_SIGNING_KEY, or deploy the escrowed key.{drift}",
            escrowed, url, fingerprints);
    }

    /// <summary>The Ed25519 keys of a JWKS; null when the text is not a JWKS at all. Keys of other types are skipped:
    /// HelloJohn may publish them beside its signing key.</summary>
    internal static List<PublishedKey>? ParsePublishedKeys(string body)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("keys", out var keys)
                || keys.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var published = new List<PublishedKey>();
            foreach (var key in keys.EnumerateArray())
            {
                if (key.ValueKind != JsonValueKind.Object
                    || StringMember(key, "kty") != "OKP"
                    || StringMember(key, "crv") != "Ed25519"
                    || StringMember(key, "x") is not { } x)
                {
                    continue;
                }

                byte[] publicKey;
                try
                {
                    publicKey = Base64Url.DecodeFromChars(x);
                }
                catch (FormatException)
                {
                    continue;
                }

                if (publicKey.Length == 32)
                {
                    published.Add(new PublishedKey(publicKey, JwkThumbprint.ForEd25519(publicKey), StringMember(key, "kid")));
                }
            }

            return published;
        }
    }

    private static string? StringMember(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static async Task<string> ReadCappedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength > MaxResponseBytes)
        {
            throw new JwksTooLargeException();
        }

        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxResponseBytes)
            {
                throw new JwksTooLargeException();
            }
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static JwksCheck Result(JwksCheckOutcome outcome, string detail, EscrowedSigningKey? escrowed = null, Uri? url = null, string? published = null, string? kid = null) => new()
    {
        Outcome = outcome,
        Detail = detail.Length > 2000 ? detail[..1997] + "..." : detail,
        EscrowedFingerprint = escrowed?.Fingerprint,
        EscrowedVersionId = escrowed?.VersionId,
        JwksUrl = url?.ToString(),
        PublishedFingerprints = published is { Length: > 2000 } ? published[..2000] : published,
        MatchedKeyId = kid is { Length: > 256 } ? kid[..256] : kid,
        RequestedBy = "",
    };

    internal sealed record PublishedKey(byte[] PublicKey, string Fingerprint, string? KeyId);

    private sealed class JwksTooLargeException : Exception;
}

/// <summary>One check's result, as shown on the Keys &amp; secrets page and the dashboard.</summary>
public sealed record JwksCheckResult(
    Guid Id,
    Guid TargetId,
    DateTimeOffset CheckedAt,
    JwksCheckOutcome Outcome,
    string? JwksUrl,
    string? EscrowedFingerprint,
    string? EscrowedVersionId,
    IReadOnlyList<string> PublishedFingerprints,
    string? MatchedKeyId,
    string Detail,
    string RequestedBy)
{
    internal static JwksCheckResult From(JwksCheck c) => new(
        c.Id,
        c.TargetId,
        c.CheckedAt,
        c.Outcome,
        c.JwksUrl,
        c.EscrowedFingerprint,
        c.EscrowedVersionId,
        string.IsNullOrEmpty(c.PublishedFingerprints) ? [] : c.PublishedFingerprints.Split(','),
        c.MatchedKeyId,
        c.Detail,
        c.RequestedBy);
}
