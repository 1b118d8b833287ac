using HelloJohn.Console.Core.Backups;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Storage;

/// <summary>A backup's objects in one store (the dump and its manifest) and their removal, for retention and for an
/// administrator's delete alike.</summary>
public sealed class BackupObjects(IBackupStoreRegistry stores, ILogger logger)
{
    /// <summary>Deletes the dump and its companions (manifest) from one store. Returns a message for people on failure;
    /// <paramref name="afterFailure"/> ends it with what happens next ("retention tries again on its next run").</summary>
    public async Task<string?> DeleteAsync(BackupRecord record, BackupLocation location, string afterFailure, CancellationToken ct)
    {
        if (!stores.TryGet(location.Store, out var store))
        {
            return $"{record.FileName} has a copy in store '{location.Store}', which is not configured any more; that copy was left in place. Configure the store again or delete it by hand.";
        }

        try
        {
            // Manifests last: while anything of the backup remains, its manifest still describes it.
            foreach (var key in Enumerable.Reverse(await ListAsync(store, location.Key, ct)))
            {
                await store.DeleteAsync(key.Key, ct);
            }

            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Deleting backup {BackupId} from store {Store} failed", record.Id, location.Store);
            return $"Deleting {record.FileName} from store '{location.Store}' failed: {e.Message} The catalog still lists that copy; {afterFailure}";
        }
    }

    /// <summary>Deletes the backup from every store the catalog lists it in, dropping each location removed; once none is
    /// left it is marked expired at <paramref name="at"/> (the record stays, for history). Returns the stores it was
    /// removed from and the problems, for people. The caller saves the catalog.</summary>
    public async Task<(IReadOnlyList<string> Removed, IReadOnlyList<string> Problems)> ExpireEverywhereAsync(
        BackupRecord record, string afterFailure, DateTimeOffset at, CancellationToken ct)
    {
        var removed = new List<string>();
        var problems = new List<string>();
        foreach (var location in record.Locations.ToList())
        {
            if (await DeleteAsync(record, location, afterFailure, ct) is { } problem)
            {
                problems.Add(problem);
            }
            else
            {
                removed.Add(location.Store);
                record.Locations.Remove(location);
            }
        }

        if (problems.Count == 0)
        {
            record.Status = BackupStatus.Expired;
            record.ExpiredAt = at;
        }

        return (removed, problems);
    }

    /// <summary>"'local', 's3'", or "no store".</summary>
    public static string Describe(IEnumerable<string> stores) =>
        stores.Any() ? string.Join(", ", stores.Select(s => $"'{s}'")) : "no store";

    /// <summary>The dump at <paramref name="key"/> followed by its manifest, where the store has one.</summary>
    public static async Task<List<StoredObject>> ListAsync(IBackupStore store, string key, CancellationToken ct)
    {
        var manifestKey = BackupManifest.KeyFor(key);
        var found = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        await foreach (var o in store.ListAsync(key, ct))
        {
            if (o.Key == key || o.Key == manifestKey)
            {
                found[o.Key] = o;
            }
        }

        var dump = found.GetValueOrDefault(key) ?? new StoredObject(key, 0, default, null);
        return found.TryGetValue(manifestKey, out var manifest) ? [dump, manifest] : [dump];
    }
}
