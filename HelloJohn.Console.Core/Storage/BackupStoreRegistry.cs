using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Storage;

/// <summary>The configured backup stores, by name and by tier.</summary>
public interface IBackupStoreRegistry
{
    IReadOnlyList<IBackupStore> All { get; }

    /// <summary>The store called <paramref name="name"/>; throws a message naming the configured stores when there is none.</summary>
    IBackupStore Get(string name);

    bool TryGet(string name, [NotNullWhen(true)] out IBackupStore? store);

    /// <summary>The stores that hold backups of <paramref name="tier"/>. A weekly or monthly tier without stores of its
    /// own lives in the daily stores.</summary>
    IReadOnlyList<IBackupStore> StoresOf(BackupTier tier);

    /// <summary>Tier → store names, as retention planning takes it.</summary>
    IReadOnlyDictionary<BackupTier, IReadOnlyList<string>> Layout { get; }
}

internal sealed class BackupStoreRegistry : IBackupStoreRegistry
{
    private readonly Dictionary<string, IBackupStore> _byName;
    private readonly Dictionary<BackupTier, IReadOnlyList<IBackupStore>> _byTier;

    public BackupStoreRegistry(IEnumerable<IBackupStore> stores, IOptions<StorageTierOptions> tiers)
    {
        All = stores.ToList();
        var duplicate = All.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two backup stores are both named '{duplicate.Key}'; store names must be unique.");
        }

        _byName = All.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var daily = Resolve(tiers.Value.Daily, DefaultDaily());
        _byTier = new()
        {
            [BackupTier.Daily] = daily,
            [BackupTier.Weekly] = Resolve(tiers.Value.Weekly, Default(S3StorageOptions.WeeklyStoreName, daily)),
            [BackupTier.Monthly] = Resolve(tiers.Value.Monthly, Default(S3StorageOptions.MonthlyStoreName, daily)),
        };
        Layout = _byTier.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.Select(s => s.Name).ToList());
    }

    public IReadOnlyList<IBackupStore> All { get; }

    public IReadOnlyDictionary<BackupTier, IReadOnlyList<string>> Layout { get; }

    public IBackupStore Get(string name) => TryGet(name, out var store)
        ? store
        : throw new KeyNotFoundException($"There is no backup store named '{name}'. Configured stores: {string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal))}. Was it removed from the configuration? Its backups stay listed until a catalog rebuild.");

    public bool TryGet(string name, [NotNullWhen(true)] out IBackupStore? store) => _byName.TryGetValue(name, out store);

    public IReadOnlyList<IBackupStore> StoresOf(BackupTier tier) => _byTier[tier];

    private List<IBackupStore> DefaultDaily()
    {
        // The local disk first: restores read from the first store that has the file.
        var local = All.Where(s => s is not S3BackupStore);
        var s3 = All.Where(s => s.Name == S3StorageOptions.MainStoreName);
        return local.Concat(s3).ToList();
    }

    private List<IBackupStore> Default(string ownStore, List<IBackupStore> daily) =>
        _byName.TryGetValue(ownStore, out var store) ? [store] : daily;

    private List<IBackupStore> Resolve(List<string>? configured, List<IBackupStore> fallback) =>
        configured is null ? fallback : configured.Select(Get).ToList();
}
