using System.ComponentModel.DataAnnotations;

namespace HelloJohn.Console.Core.Restores;

public sealed class RestoreOptions
{
    public const string Section = "Restores";

    /// <summary>Restores__Jobs: parallel pg_restore workers (<c>-j</c>). Defaults to the number of processor cores.</summary>
    [Range(1, 64, ErrorMessage = "Restores__Jobs must be from 1 to 64 (pg_restore -j).")]
    public int? Jobs { get; set; }

    /// <summary>Restores__WorkDirectory: where a backup kept only in remote storage is downloaded, and a zstd backup
    /// decompressed, before pg_restore reads it (the custom format needs a seekable file). The files go into a 0700
    /// folder of the console process inside it (<c>hellojohn-console-work/</c>), removed when the process ends or, after
    /// a crash, at the next start. Defaults to <c>work/</c> in the data folder.</summary>
    public string? WorkDirectory { get; set; }

    /// <summary>Restores__InPlaceSingleTransaction: restore in place inside one transaction (no <c>-j</c>), so a failure
    /// leaves the live database exactly as it was. Set false to trade that for parallel speed.</summary>
    public bool InPlaceSingleTransaction { get; set; } = true;

    public int EffectiveJobs => Jobs ?? Math.Max(1, Environment.ProcessorCount);
}
