using System.ComponentModel.DataAnnotations;

namespace HelloJohn.Console.Core.Restores;

public sealed class RestoreOptions
{
    public const string Section = "Restores";

    /// <summary>Restores__Jobs: parallel pg_restore workers (<c>-j</c>). Defaults to the number of processor cores.</summary>
    [Range(1, 64, ErrorMessage = "Restores__Jobs must be from 1 to 64 (pg_restore -j).")]
    public int? Jobs { get; set; }

    /// <summary>Restores__WorkDirectory: where a backup kept only in remote storage is downloaded before pg_restore reads
    /// it (the custom format needs a seekable file). Defaults to the system temp folder.</summary>
    public string? WorkDirectory { get; set; }

    /// <summary>Restores__InPlaceSingleTransaction: restore in place inside one transaction (no <c>-j</c>), so a failure
    /// leaves the live database exactly as it was. Set false to trade that for parallel speed.</summary>
    public bool InPlaceSingleTransaction { get; set; } = true;

    public int EffectiveJobs => Jobs ?? Math.Max(1, Environment.ProcessorCount);
}
