using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Storage;

/// <summary>Which stores hold each tier. Left empty, the recommended layout follows from the configured stores: daily in
/// <c>local</c> and <c>s3</c>, weekly in <c>s3-weekly</c>, monthly in <c>s3-monthly</c>; a tier without a store of its
/// own stays in the daily stores.</summary>
public class StorageTierOptions
{
    public const string Section = "Storage:Tiers";

    public List<string>? Daily { get; set; }
    public List<string>? Weekly { get; set; }
    public List<string>? Monthly { get; set; }

    public IReadOnlyList<string>? Configured(BackupTier tier) => tier switch
    {
        BackupTier.Daily => Daily,
        BackupTier.Weekly => Weekly,
        _ => Monthly,
    };
}

/// <summary>Every store a tier names must exist, and the daily tier must have one: that is where the pipeline writes.</summary>
internal sealed class StorageTierOptionsValidator(IEnumerable<IBackupStore> stores) : IValidateOptions<StorageTierOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageTierOptions options)
    {
        var known = stores.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var tier in BackupTiers.All)
        {
            var key = $"Storage__Tiers__{tier}";
            var names = options.Configured(tier);
            if (names is null)
            {
                continue;
            }

            foreach (var unknown in names.Where(n => !known.Contains(n)))
            {
                errors.Add($"{key}: there is no store named '{unknown}'. Configured stores: {(known.Count == 0 ? "none" : string.Join(", ", known.Order(StringComparer.Ordinal)))}.");
            }

            if (names.Count != names.Distinct(StringComparer.Ordinal).Count())
            {
                errors.Add($"{key} names a store twice.");
            }
        }

        if (options.Daily is { Count: 0 })
        {
            errors.Add("Storage__Tiers__Daily is empty: backups need at least one store to be written to. Name one (e.g. local), or remove the setting for the default.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
