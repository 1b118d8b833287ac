using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>One configured backup store as the Settings page shows it: where it keeps files, never how it signs in.</summary>
public sealed record StorageStoreRow(string Name, string Kind, string Location, string? Region, string? Endpoint, string? StorageClass, string? Encryption, IReadOnlyList<string> Tiers)
{
    public static IReadOnlyList<StorageStoreRow> From(IBackupStoreRegistry registry) =>
        registry.All.Select(store =>
        {
            var tiers = BackupTiers.All.Where(t => registry.Layout[t].Contains(store.Name)).Select(t => t.Name()).ToList();
            return store switch
            {
                S3BackupStore s3 => new StorageStoreRow(store.Name, "S3", $"s3://{s3.Definition.Bucket}/{s3.Definition.Prefix}",
                    s3.Definition.Region, s3.Definition.ServiceUrl, s3.Definition.StorageClass, s3.Definition.ServerSideEncryption, tiers),
                LocalDiskBackupStore local => new StorageStoreRow(store.Name, "Local disk", local.Directory, null, null, null, null, tiers),
                _ => new StorageStoreRow(store.Name, store.GetType().Name, "", null, null, null, null, tiers),
            };
        }).ToList();
}
