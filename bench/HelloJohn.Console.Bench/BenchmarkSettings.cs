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
    public IReadOnlyList<int> GzipLevels { get; init; } = [0, 1, 6, 9];
    public IReadOnlyList<int> ZstdLevels { get; init; } = [1, 3];
    public int RestoreJobs { get; init; } = Math.Max(2, Environment.ProcessorCount);
    public int CatalogBackups { get; init; } = 100_000;
    public int CatalogVerifications { get; init; } = 10_000;
    public int UiReps { get; init; } = 20;
    /// <summary>Where dumps and the console's data go; a fresh temporary folder when null.</summary>
    public string? WorkDirectory { get; init; }

    public int EffectiveVerificationReps => VerificationReps ?? Reps;
    public int QuarterUsers => Math.Max(1, Users / 4);
}
