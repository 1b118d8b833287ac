using System.Globalization;
using System.Security.Cryptography;
using HelloJohn.Console.Core.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Secrets.Local;

/// <summary>The embedded default: versions encrypted with ASP.NET Core Data Protection, kept in the console database.
/// The database rather than files because several console instances may share one console database (each would
/// otherwise see only its own files), because versions need a transactional counter, and because a backup of the
/// console database then carries the escrow with it. Decrypting needs the Data Protection key ring as well.</summary>
internal sealed class LocalSecretStore(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IDataProtectionProvider dataProtection,
    TimeProvider time,
    ILogger<LocalSecretStore> logger) : ISecretStore
{
    /// <summary>Changing this string makes every stored secret unreadable: it is part of the encryption key.</summary>
    internal const string Purpose = "HelloJohn.Console.Secrets.LocalSecretStore.v1";

    private const int MaxInsertAttempts = 5;

    public SecretStoreKind Kind => SecretStoreKind.Local;

    public string Location => "Local store (console database, encrypted with ASP.NET Core Data Protection)";

    public async Task<SecretVersionInfo> PutAsync(string name, string value, CancellationToken ct = default)
    {
        SecretNames.Validate(name);
        var protectedValue = ProtectorFor(name).Protect(value);
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var latest = await db.Set<StoredSecretVersion>().Where(v => v.Name == name).MaxAsync(v => (int?)v.Version, ct) ?? 0;
            var row = new StoredSecretVersion
            {
                Name = name,
                Version = latest + 1,
                ProtectedValue = protectedValue,
                CreatedAt = time.GetUtcNow().TruncatedToMicroseconds(),
            };
            db.Add(row);
            try
            {
                await db.SaveChangesAsync(ct);
                logger.LogInformation("Stored version {Version} of secret {SecretName} in the local store", row.Version, name);
                return new SecretVersionInfo(name, VersionId(row.Version), row.CreatedAt, IsCurrent: true);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && attempt < MaxInsertAttempts)
            {
                // Another instance stored a version of the same secret at the same moment: take the next number.
                logger.LogDebug("Version {Version} of secret {SecretName} was taken concurrently; retrying", row.Version, name);
            }
        }
    }

    public async Task<SecretValue?> GetAsync(string name, string? versionId = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var versions = db.Set<StoredSecretVersion>().AsNoTracking().Where(v => v.Name == name);
        StoredSecretVersion? row;
        if (versionId is null)
        {
            row = await versions.OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct);
        }
        else
        {
            if (!int.TryParse(versionId, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }

            row = await versions.FirstOrDefaultAsync(v => v.Version == number, ct);
        }

        if (row is null)
        {
            return null;
        }

        string value;
        try
        {
            value = ProtectorFor(name).Unprotect(row.ProtectedValue);
        }
        catch (CryptographicException)
        {
            // The inner exception is left out on purpose: nothing about the payload should travel further.
            throw new SecretStoreException(SecretStoreFailure.Unreadable,
                $"Version {row.Version} of secret '{name}' is in the console database but cannot be decrypted: the Data Protection key that encrypted it is not in this console's key ring. " +
                "Nothing was changed. Restore the key ring the console used when the secret was stored (see the Data Protection keys folder or table of the original installation), or import the secret again.");
        }

        return new SecretValue(name, VersionId(row.Version), row.CreatedAt, value);
    }

    public async Task<SecretDescription?> DescribeAsync(string name, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var summary = await db.Set<StoredSecretVersion>().AsNoTracking()
            .Where(v => v.Name == name)
            .GroupBy(v => v.Name)
            .Select(g => new { First = g.Min(v => v.CreatedAt), Last = g.Max(v => v.CreatedAt), Current = g.Max(v => v.Version), Count = g.Count() })
            .FirstOrDefaultAsync(ct);
        return summary is null
            ? null
            : new SecretDescription(name, Location, summary.First, summary.Last, VersionId(summary.Current), summary.Count);
    }

    public async Task<IReadOnlyList<SecretVersionInfo>> ListVersionsAsync(string name, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<StoredSecretVersion>().AsNoTracking()
            .Where(v => v.Name == name)
            .OrderByDescending(v => v.Version)
            .Select(v => new { v.Version, v.CreatedAt })
            .ToListAsync(ct);
        return rows.Select((r, i) => new SecretVersionInfo(name, VersionId(r.Version), r.CreatedAt, IsCurrent: i == 0)).ToList();
    }

    private IDataProtector ProtectorFor(string name) => dataProtection.CreateProtector(Purpose, name);

    private static string VersionId(int version) => version.ToString(CultureInfo.InvariantCulture);
}
