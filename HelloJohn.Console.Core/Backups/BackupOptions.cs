using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Backups;

public sealed class BackupOptions
{
    public const string Section = "Backups";

    /// <summary>Backups__Compression: <c>zstd:N</c> (1–19; the console compresses an uncompressed custom-format dump, the
    /// file ends in .dump.zst) or <c>gzip:N</c> (0–9; pg_dump's own compression, a plain .dump). Default zstd:1, the
    /// fastest setting within 10% of pg_dump -Z9's size; see docs/benchmarks.md.</summary>
    public string Compression { get; set; } = BackupCompression.Default.ToString();

    /// <summary>Backups__ProgressInterval: how often a running backup records its progress and heartbeat.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A running backup whose heartbeat is older than this is taken as abandoned (its process died).</summary>
    public TimeSpan AbandonedAfter { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>Checks <c>Backups__Compression</c> at start, naming the variable and the accepted values.</summary>
internal sealed class BackupOptionsValidation : IValidateOptions<BackupOptions>
{
    public ValidateOptionsResult Validate(string? name, BackupOptions options) =>
        BackupCompression.TryParse(options.Compression, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Backups__Compression must be zstd:1 to zstd:19 (the console compresses with zstd) or gzip:0 to gzip:9 (pg_dump's own levels), not '{options.Compression}'.");
}
