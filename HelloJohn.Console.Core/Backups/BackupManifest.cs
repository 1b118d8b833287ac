using System.Text.Json;
using System.Text.Json.Serialization;

namespace HelloJohn.Console.Core.Backups;

/// <summary>The JSON file beside every dump. With it alone, a console that lost its own database can rebuild the
/// catalog, and a restore can prove the file is intact and the data complete.</summary>
public sealed record BackupManifest
{
    public const int CurrentVersion = 1;
    public const string Suffix = ".manifest.json";

    public int ManifestVersion { get; init; } = CurrentVersion;
    public required Guid BackupId { get; init; }
    public required string TargetName { get; init; }
    public string? TargetAddress { get; init; }
    /// <summary>The database dumped (absent in manifests written before deployments had several).</summary>
    public string? DatabaseName { get; init; }
    /// <summary>The set it belongs to, when it is a set's member.</summary>
    public Guid? SetId { get; init; }
    public string? SetName { get; init; }
    public required string FileName { get; init; }
    public required string Format { get; init; }
    public required string Compression { get; init; }
    public required long SizeBytes { get; init; }
    public required string Sha256 { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public string? ServerVersion { get; init; }
    public string? PgDumpVersion { get; init; }
    public string? SchemaVersion { get; init; }
    public string? SnapshotId { get; init; }
    public required string Tier { get; init; }
    public required string Trigger { get; init; }
    public required IReadOnlyList<ManifestTableCount> Tables { get; init; }

    public static string KeyFor(string dumpKey) => dumpKey + Suffix;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Reads a manifest; throws <see cref="InvalidDataException"/> with the reason when it cannot be used.</summary>
    public static BackupManifest Parse(ReadOnlySpan<byte> json)
    {
        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BackupManifest>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The manifest is not valid JSON ({e.Message}).", e);
        }

        if (manifest is null || manifest.Sha256.Length != 64 || manifest.SizeBytes < 0)
        {
            throw new InvalidDataException("The manifest lacks a SHA-256 or size.");
        }

        if (manifest.ManifestVersion > CurrentVersion)
        {
            throw new InvalidDataException($"The manifest has version {manifest.ManifestVersion}, newer than this console understands ({CurrentVersion}). Upgrade the console.");
        }

        return manifest;
    }
}

public sealed record ManifestTableCount(string Schema, string Table, long Rows);
