namespace HelloJohn.Console.Core.Storage;

/// <summary>What a catalog rebuild found and did.</summary>
/// <param name="ManifestsRead">Readable manifests across all stores (a backup held in two stores counts twice).</param>
/// <param name="BackupsFound">Distinct backups those manifests describe with their file present.</param>
public sealed record CatalogRebuildReport(
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    IReadOnlyList<string> StoresScanned,
    int ManifestsRead,
    int BackupsFound,
    IReadOnlyList<RecreatedBackup> Recreated,
    IReadOnlyList<SkippedBackup> Skipped,
    IReadOnlyList<UnreadableManifest> Unreadable,
    IReadOnlyList<string> TargetsCreated,
    IReadOnlyList<string> StoreErrors)
{
    /// <summary>Backups already in the catalog whose record was changed to match storage (a falsely failed run found
    /// complete, a listed copy gone or disproven).</summary>
    public IReadOnlyList<ReconciledBackup> Reconciled { get; init; } = [];

    /// <summary>Backups found in storage that could not be proven; listed as unverifiable, never offered for restore.</summary>
    public IReadOnlyList<UnverifiableBackup> Unverifiable { get; init; } = [];

    /// <summary>Sets re-created from their set manifests.</summary>
    public IReadOnlyList<Sets.RebuiltSet> Sets { get; init; } = [];

    public string Summary =>
        $"Scanned {StoresScanned.Count} store(s) ({string.Join(", ", StoresScanned)}): {BackupsFound} backup(s) found, {Recreated.Count} re-created, "
        + (Reconciled.Count == 0 ? "" : $"{Reconciled.Count} corrected, ")
        + (Unverifiable.Count == 0 ? "" : $"{Unverifiable.Count} unverifiable, ")
        + $"{Skipped.Count} skipped, {Unreadable.Count} unreadable manifest(s)"
        + (Sets.Count == 0 ? "" : $"; {Sets.Count} backup set(s) re-created")
        + (TargetsCreated.Count == 0 ? "" : $"; target(s) re-created without a connection: {string.Join(", ", TargetsCreated)}")
        + (StoreErrors.Count == 0 ? "." : $"; {StoreErrors.Count} store(s) could not be scanned: {string.Join(" ", StoreErrors)}");
}

public sealed record RecreatedBackup(Guid Id, string FileName, string TargetName, DateTimeOffset CreatedAt, long SizeBytes, string Sha256, long TotalRows, IReadOnlyList<string> Stores);

/// <param name="Store">The store of the copy that was skipped; null when the whole backup was.</param>
public sealed record SkippedBackup(Guid Id, string FileName, string? Store, string Reason);

public sealed record UnreadableManifest(string Store, string Key, string Reason);

/// <summary>A backup whose file is in storage but could not be proven to be what its manifest says.</summary>
public sealed record UnverifiableBackup(Guid Id, string FileName, string TargetName, IReadOnlyList<string> Stores, string Reason);
