using System.Text.Json;
using HelloJohn.Console.Core.Backups;

namespace HelloJohn.Console.Core.Sets;

/// <summary>The JSON file that lists every member of a set, beside the members' own manifests. With it a console that
/// lost its database rebuilds the set as it was (which databases, which failed and why, which were gone), and a person
/// restoring by hand knows which files belong together.</summary>
public sealed record BackupSetManifest
{
    public const int CurrentVersion = 1;

    public int ManifestVersion { get; init; } = CurrentVersion;
    public required Guid SetId { get; init; }
    public required string SetName { get; init; }
    public required string TargetName { get; init; }
    /// <summary>The server, without credentials (user@host:port/database).</summary>
    public string? TargetAddress { get; init; }
    public required string Status { get; init; }
    public required string Trigger { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public required IReadOnlyList<BackupSetManifestMember> Members { get; init; }
    public BackupSetManifestRoles? Roles { get; init; }
    /// <summary>Databases selected before and missing when the set ran.</summary>
    public IReadOnlyList<string> GoneDatabases { get; init; } = [];

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, BackupManifest.JsonOptions);

    /// <summary>Reads a set manifest; throws <see cref="InvalidDataException"/> with the reason when it cannot be used.</summary>
    public static BackupSetManifest Parse(ReadOnlySpan<byte> json)
    {
        BackupSetManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BackupSetManifest>(json, BackupManifest.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The set manifest is not valid JSON ({e.Message}).", e);
        }

        if (manifest is null || manifest.Members is null || manifest.SetId == Guid.Empty)
        {
            throw new InvalidDataException("The set manifest lacks its id or its members.");
        }

        if (manifest.ManifestVersion > CurrentVersion)
        {
            throw new InvalidDataException($"The set manifest has version {manifest.ManifestVersion}, newer than this console understands ({CurrentVersion}). Upgrade the console.");
        }

        return manifest;
    }
}

/// <summary>One database of a set: its dump (when it succeeded) with size, SHA-256 and HelloJohn's schema version, or
/// why it failed.</summary>
public sealed record BackupSetManifestMember(
    string Database,
    Guid BackupId,
    string FileName,
    string Status,
    long? SizeBytes,
    string? Sha256,
    string? SchemaVersion,
    string? Error);

/// <summary>The server's roles (<c>pg_dumpall --globals-only</c>). Sensitive: with passwords it holds their hashes.</summary>
public sealed record BackupSetManifestRoles(string FileName, long SizeBytes, string Sha256, bool WithPasswords);
