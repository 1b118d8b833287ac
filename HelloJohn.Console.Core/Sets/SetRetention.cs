using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Storage;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>Retention over sets: a set is one candidate (kept or expired whole, with all its members), its tier copies
/// and removals are its kept members' plus its roles file and set manifest, and a set is never expired while it holds
/// the newest kept dump of one of its databases (a tenant failing for days keeps its last good dump, whatever the
/// policy says).</summary>
public sealed class SetRetention(IBackupStoreRegistry stores, ILogger<SetRetention> logger)
{
    /// <summary>One candidate per set (its members folded in) and one per backup outside sets.</summary>
    public static IReadOnlyList<RetentionCandidate> Candidates(
        IReadOnlyList<BackupRecord> records, IReadOnlyList<BackupSet> sets, IReadOnlyDictionary<Guid, DateTimeOffset> passes)
    {
        var candidates = records.Where(r => r.SetId is null)
            .Select(r => RetentionCandidate.FromRecord(r, passes.TryGetValue(r.Id, out var at) ? at : null))
            .OfType<RetentionCandidate>()
            .ToList();
        var membersOf = records.Where(r => r.SetId is not null).ToLookup(r => r.SetId!.Value);
        foreach (var set in sets)
        {
            RetentionCandidateStatus? status = set.Status switch
            {
                BackupSetStatus.Succeeded or BackupSetStatus.Partial => RetentionCandidateStatus.Succeeded,
                BackupSetStatus.Queued or BackupSetStatus.Running => RetentionCandidateStatus.Running,
                BackupSetStatus.Failed or BackupSetStatus.Cancelled => RetentionCandidateStatus.Failed,
                _ => null,
            };
            if (status is null)
            {
                continue;
            }

            var kept = membersOf[set.Id].Where(IsKept).ToList();
            // Verified when every kept member passed a verification: then the set's is its oldest member's pass.
            var verified = kept.Count > 0 && kept.All(m => passes.ContainsKey(m.Id)) ? kept.Min(m => passes[m.Id]) : (DateTimeOffset?)null;
            candidates.Add(new RetentionCandidate(set.Id, set.CreatedAt, status.Value)
            {
                FileName = set.Name,
                Pinned = set.Pinned,
                LastVerifiedAt = verified,
                // A store holds the set when it holds every kept member.
                Stores = kept.Count == 0 ? [] : [.. kept.Select(m => m.Locations.Select(l => l.Store)).Aggregate((a, b) => a.Intersect(b))],
            });
        }

        return candidates;
    }

    /// <summary>Keeps each set the plan would expire while it holds a database's newest kept dump.</summary>
    public static RetentionPlan ProtectNewestOfEachDatabase(RetentionPlan plan, IReadOnlyList<BackupRecord> records)
    {
        var newestSetOf = records.Where(r => r.SetId is not null && r.DatabaseName is not null && IsKept(r))
            .GroupBy(r => r.DatabaseName!, StringComparer.Ordinal)
            .Select(g => (Database: g.Key, SetId: g.MaxBy(r => r.CreatedAt)!.SetId!.Value))
            .ToLookup(x => x.SetId, x => x.Database);
        var decisions = plan.Decisions.Select(d => d.Verdict == RetentionVerdict.Expire && newestSetOf[d.BackupId].Any()
            ? d with
            {
                Verdict = RetentionVerdict.Keep,
                Explanation = $"kept: it holds the newest good dump of {string.Join(", ", newestSetOf[d.BackupId])} (later sets failed for it)",
            }
            : d).ToList();
        return plan with { Decisions = decisions };
    }

    public static bool IsKept(BackupRecord r) => r.Status is BackupStatus.Succeeded or BackupStatus.PartiallyStored;

    /// <summary>The set's own files (roles, set manifest) that a tier store needs beside its members.</summary>
    public async Task CopySetFilesAsync(BackupSet set, string toStore, CancellationToken ct)
    {
        var destination = stores.Get(toStore);
        foreach (var key in SetKeys(set))
        {
            foreach (var from in stores.All.Where(s => s.Name != toStore))
            {
                if (!await from.ExistsAsync(key, ct))
                {
                    continue;
                }

                await using var read = await from.OpenReadAsync(key, ct);
                using var buffer = new MemoryStream();
                await read.CopyToAsync(buffer, ct);
                await destination.PutSmallAsync(key, buffer.ToArray(), ct);
                break;
            }
        }
    }

    /// <summary>Deletes the set's own files from <paramref name="fromStores"/> (its manifest last). Returns the problems.</summary>
    public async Task<IReadOnlyList<string>> DeleteSetFilesAsync(BackupSet set, IEnumerable<string> fromStores, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var name in fromStores)
        {
            if (!stores.TryGet(name, out var store))
            {
                continue;
            }

            foreach (var key in SetKeys(set))
            {
                try
                {
                    await store.DeleteAsync(key, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Deleting {Key} from store {Store} failed", key, name);
                    problems.Add($"Deleting {key} from store '{name}' failed: {e.Message}");
                }
            }
        }

        return problems;
    }

    public IEnumerable<string> AllStores => stores.All.Select(s => s.Name);

    private static IEnumerable<string> SetKeys(BackupSet set) =>
        set.RolesFileName is { } roles ? [roles, SetNaming.ManifestKey(set.Name)] : [SetNaming.ManifestKey(set.Name)];
}
