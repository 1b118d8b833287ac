using System.ComponentModel.DataAnnotations;

namespace HelloJohn.Console.Core.Backups;

public sealed class BackupOptions
{
    public const string Section = "Backups";

    /// <summary>Backups__Compression: pg_dump's gzip level for the custom format, 0–9. See docs/benchmarks.md.</summary>
    [Range(0, 9, ErrorMessage = "Backups__Compression must be a pg_dump compression level from 0 to 9.")]
    public int Compression { get; set; } = 9;

    /// <summary>Backups__ProgressInterval: how often a running backup records its progress and heartbeat.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A running backup whose heartbeat is older than this is taken as abandoned (its process died).</summary>
    public TimeSpan AbandonedAfter { get; set; } = TimeSpan.FromMinutes(2);
}
