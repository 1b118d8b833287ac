using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>A set found again by a catalog rebuild, and what could not be.</summary>
public sealed record RebuiltSet(Guid SetId, string Name, string TargetName, BackupSetStatus Status, int MembersFound, int MembersListed, string? Note);

/// <summary>Finds sets again from their set manifests, once a catalog rebuild has listed the members from their own
/// manifests: each set is re-created as its manifest describes it, its members attached by id, and a set whose members
/// are not all in storage any more is listed as partial with the missing ones named. A deployment re-created by the
/// rebuild learns its databases from its sets, so that once given a connection it protects them again.</summary>
public sealed class SetCatalogRebuild(IDbContextFactory<ConsoleDbContext> dbFactory, IBackupStoreRegistry stores, ILogger<SetCatalogRebuild> logger)
{
    private const long MaxManifestBytes = 4 * 1024 * 1024;

    public async Task<IReadOnlyList<RebuiltSet>> RebuildAsync(CancellationToken ct)
    {
        var manifests = new Dictionary<Guid, (BackupSetManifest Manifest, IBackupStore Store)>();
        foreach (var store in stores.All)
        {
            try
            {
                await foreach (var o in store.ListAsync("hellojohn_set_", ct))
                {
                    if (!o.Key.EndsWith(SetNaming.ManifestSuffix, StringComparison.Ordinal) || o.Size > MaxManifestBytes)
                    {
                        continue;
                    }

                    var manifest = await ReadAsync(store, o.Key, ct);
                    // The same set in several stores: the one written last tells the set's final state.
                    if (manifest is not null && (!manifests.TryGetValue(manifest.SetId, out var known) || known.Manifest.FinishedAt < manifest.FinishedAt))
                    {
                        manifests[manifest.SetId] = (manifest, store);
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Listing the set manifests of store {Store} failed", store.Name);
            }
        }

        var rebuilt = new List<RebuiltSet>();
        foreach (var (manifest, store) in manifests.Values.OrderBy(m => m.Manifest.StartedAt))
        {
            if (await RecreateAsync(manifest, store, ct) is { } set)
            {
                rebuilt.Add(set);
            }
        }

        return rebuilt;
    }

    private async Task<BackupSetManifest?> ReadAsync(IBackupStore store, string key, CancellationToken ct)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(key, ct);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            return BackupSetManifest.Parse(copy.ToArray());
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            logger.LogWarning("The set manifest {Key} in store {Store} could not be read: {Message}", key, store.Name, e.Message);
            return null;
        }
    }

    private async Task<RebuiltSet?> RecreateAsync(BackupSetManifest manifest, IBackupStore store, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = await db.Targets.FirstOrDefaultAsync(t => t.Name == manifest.TargetName, ct);
        var memberIds = manifest.Members.Select(m => m.BackupId).ToList();
        var found = await db.Backups.Where(b => memberIds.Contains(b.Id)).ToListAsync(ct);
        if (target is null || found.Count == 0)
        {
            // Its members were not found in storage: nothing of it can be restored.
            return null;
        }

        foreach (var member in found)
        {
            var listed = manifest.Members.First(m => m.BackupId == member.Id);
            member.SetId = manifest.SetId;
            member.DatabaseName ??= listed.Database;
        }

        if (target.Databases.Count == 0 && target.Patterns.Count == 0)
        {
            target.Databases = [.. manifest.Members.Select(m => m.Database).Distinct(StringComparer.Ordinal)];
        }

        var kept = found.Where(b => b.Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored).ToList();
        var listedKept = manifest.Members.Count(m => m.Status is nameof(BackupStatus.Succeeded) or nameof(BackupStatus.PartiallyStored));
        var missing = manifest.Members.Where(m => m.Status is nameof(BackupStatus.Succeeded) or nameof(BackupStatus.PartiallyStored) && kept.All(k => k.Id != m.BackupId))
            .Select(m => m.Database).ToList();
        var status = Enum.TryParse<BackupSetStatus>(manifest.Status, out var s) ? s : BackupSetStatus.Partial;
        var note = missing.Count == 0 ? null : $"Not found in storage: {string.Join(", ", missing)} (listed in the set manifest).";
        if (missing.Count > 0)
        {
            status = kept.Count == 0 ? BackupSetStatus.Failed : BackupSetStatus.Partial;
        }

        var rolesPresent = manifest.Roles is { } roles && await store.ExistsAsync(roles.FileName, ct);
        var set = await db.Set<BackupSet>().FirstOrDefaultAsync(x => x.Id == manifest.SetId, ct);
        var isNew = set is null;
        set ??= new BackupSet { Id = manifest.SetId, CurrentRunId = manifest.SetId, TargetId = target.Id, Name = manifest.SetName };
        if (isNew)
        {
            set.Status = status;
            set.Trigger = Enum.TryParse<BackupTrigger>(manifest.Trigger, out var trigger) ? trigger : BackupTrigger.Imported;
            set.RequestedBy = CatalogRebuildService.RebuiltBy;
            set.CreatedAt = manifest.StartedAt;
            set.StartedAt = manifest.StartedAt;
            set.FinishedAt = manifest.FinishedAt;
            set.GoneDatabases = [.. manifest.GoneDatabases];
            set.MemberCount = manifest.Members.Count;
            set.MembersSucceeded = kept.Count;
            set.SizeBytes = kept.Sum(k => k.SizeBytes ?? 0) + (rolesPresent ? manifest.Roles!.SizeBytes : 0);
            set.RolesFileName = rolesPresent ? manifest.Roles!.FileName : null;
            set.RolesSizeBytes = rolesPresent ? manifest.Roles!.SizeBytes : null;
            set.RolesSha256 = rolesPresent ? manifest.Roles!.Sha256 : null;
            set.RolesWithPasswords = rolesPresent && manifest.Roles!.WithPasswords;
            set.RolesFailed = manifest.Roles is not null && !rolesPresent;
            set.Error = note ?? (status is BackupSetStatus.Partial or BackupSetStatus.Failed
                ? string.Join("; ", manifest.Members.Where(m => m.Error is not null).Select(m => $"{m.Database} ({m.Error})"))
                : null);
            db.Add(set);
        }

        await db.SaveChangesAsync(ct);
        return isNew ? new RebuiltSet(set.Id, set.Name, target.Name, set.Status, kept.Count, listedKept, note) : null;
    }
}
