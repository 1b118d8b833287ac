namespace HelloJohn.Console.Core.Storage;

/// <summary>How long a backup is kept and where: daily backups in the daily stores, weekly (Sunday) and monthly (1st)
/// ones copied to their tier's stores.</summary>
public enum BackupTier
{
    Daily,
    Weekly,
    Monthly,
}

public static class BackupTiers
{
    public static readonly IReadOnlyList<BackupTier> All = [BackupTier.Daily, BackupTier.Weekly, BackupTier.Monthly];

    /// <summary>The spelling kept in <c>BackupRecord.Tier</c> and in manifests.</summary>
    public static string Name(this BackupTier tier) => tier.ToString().ToLowerInvariant();

    public static BackupTier? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "daily" => BackupTier.Daily,
        "weekly" => BackupTier.Weekly,
        "monthly" => BackupTier.Monthly,
        _ => null,
    };
}
