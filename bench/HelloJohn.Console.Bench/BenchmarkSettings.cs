namespace HelloJohn.Console.Bench;

/// <summary>What one benchmark run measures and how often.</summary>
public sealed record BenchmarkSettings
{
    public const int ReferenceUsers = 1_000_000;

    public int Users { get; init; } = ReferenceUsers;
    /// <summary>Repetitions of each backup and compression case.</summary>
    public int Reps { get; init; } = 3;
    /// <summary>Repetitions of each verification case (each restores the whole database).</summary>
    public int? VerificationReps { get; init; }
    /// <summary>pg_dump's own levels measured beside the documented -Z9 (0: the uncompressed dump, the limit).</summary>
    public IReadOnlyList<int> GzipLevels { get; init; } = [0, 9];
    /// <summary>zstd levels of the bare equivalents (stock pg_dump | zstd, and the native library in this process).</summary>
    public IReadOnlyList<int> ZstdLevels { get; init; } = [1];
    public int RestoreJobs { get; init; } = Math.Max(2, Environment.ProcessorCount);
    public int CatalogBackups { get; init; } = 100_000;
    public int CatalogVerifications { get; init; } = 10_000;
    public int UiReps { get; init; } = 20;
    /// <summary>Whether to measure the Release build of the console in its own process, through its pages (needs
    /// <c>dotnet build -c Release HelloJohn.Console.Web</c> and Chromium at /usr/bin/chromium).</summary>
    public bool EndToEnd { get; init; } = true;
    /// <summary>Where dumps and the console's data go; a fresh temporary folder when null.</summary>
    public string? WorkDirectory { get; init; }

    public int EffectiveVerificationReps => VerificationReps ?? Reps;
    public int QuarterUsers => Math.Max(1, Users / 4);
}
