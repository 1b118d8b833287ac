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

    /// <summary>Backups__WaitForRunningBackup: how long a manual backup (or the safety backup before a restore in place)
    /// waits, queued, while another backup of the same target runs; two never run at once. A scheduled backup does not
    /// wait: it is skipped, and the schedule takes the next.</summary>
    public TimeSpan WaitForRunningBackup { get; set; } = TimeSpan.FromHours(2);
}

/// <summary>Checks the Backups settings at start, naming the variable and the accepted values.</summary>
internal sealed class BackupOptionsValidation : IValidateOptions<BackupOptions>
{
    public ValidateOptionsResult Validate(string? name, BackupOptions options)
    {
        var errors = new List<string>();
        if (!BackupCompression.TryParse(options.Compression, out _))
        {
            errors.Add($"Backups__Compression must be zstd:1 to zstd:19 (the console compresses with zstd) or gzip:0 to gzip:9 (pg_dump's own levels), not '{options.Compression}'.");
        }

        if (options.ProgressInterval < TimeSpan.FromMilliseconds(50) || options.ProgressInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"Backups__ProgressInterval must be from 00:00:00.05 to 00:01:00, not {options.ProgressInterval}.");
        }

        if (options.WaitForRunningBackup < TimeSpan.Zero || options.WaitForRunningBackup > TimeSpan.FromDays(1))
        {
            errors.Add($"Backups__WaitForRunningBackup must be from 00:00:00 to 1.00:00:00, not {options.WaitForRunningBackup}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
