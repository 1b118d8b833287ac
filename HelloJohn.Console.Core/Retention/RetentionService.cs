using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Retention;

/// <summary>The outcome of applying retention to one target.</summary>
public sealed record RetentionRunResult(Guid TargetId, bool Ran, RetentionPlan? Plan, int Copied, int Pruned, int Expired, IReadOnlyList<string> Errors)
{
    public bool Succeeded => Ran && Errors.Count == 0;

    /// <summary>Files left in place for now because a verification or restore needs them; retention comes back to them.</summary>
    public IReadOnlyList<string> Deferred { get; init; } = [];

    public string Summary => !Ran
        ? Errors.FirstOrDefault() ?? "Retention did not run."
        : $"{Expired} backup(s) expired, {Copied} tier cop{(Copied == 1 ? "y" : "ies")} made, {Pruned} copy(ies) no tier needs removed"
          + (Deferred.Count == 0 ? "" : $"; {Deferred.Count} left for the next run: {string.Join(" ", Deferred)}")
          + (Errors.Count == 0 ? "." : $"; {Errors.Count} problem(s): {string.Join(" ", Errors)}");
}

/// <summary>Builds the retention plan of a target from the catalog, shows it, and applies it: copies weekly and monthly
/// backups to their tier's stores, removes copies no tier needs, deletes expired backups from every store and records
/// every change in the catalog and the audit trail.</summary>
public sealed class RetentionService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    IAuditLog audit,
    CallerGate gate,
    IOptions<RetentionOptions> options,
    IOptions<ScheduleOptions> scheduleOptions,
    ConsoleLocks locks,
    Sets.SetRetention setFiles,
    TimeProvider time,
    ILogger<RetentionService> logger,
    IBackupVerificationHistory? verifications = null,
    Notifications.ConditionNotices? notices = null,
    Settings.ConsoleSettingsService? settings = null)
{
    private readonly BackupObjects objects = new(stores, logger);

    /// <summary>Companions above this size (never a manifest) are streamed rather than read into memory.</summary>
    private const int SmallObjectLimit = 16 * 1024 * 1024;
    private const string RetryNote = "retention tries again on its next run.";

    /// <summary>The retention numbers in force: the configuration's, with those an administrator set in Settings.</summary>
    public Task<RetentionOptions> PolicyOptionsAsync(CancellationToken ct) =>
        settings is null ? Task.FromResult(options.Value) : settings.RetentionAsync(options.Value, ct);

    /// <summary>The plan as it would run now. Changes nothing.</summary>
    public async Task<RetentionPlan> PreviewAsync(Guid targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var records = await LoadAsync(db, targetId, ct);
        return await PlanAsync(targetId, records, await LoadSetsAsync(db, targetId, ct), ct);
    }

    /// <summary>Applies the plan of <paramref name="targetId"/>. Returns without changing anything when another console
    /// instance is applying retention to the same target.</summary>
    public async Task<RetentionRunResult> ApplyAsync(Guid targetId, Actor actor, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageRetention, AuditActions.RetentionRun, $"target {targetId}", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = await db.Targets.AsNoTracking().Where(t => t.Id == targetId).Select(t => t.Name).SingleOrDefaultAsync(ct)
            ?? throw new KeyNotFoundException($"There is no backup target with id {targetId}; nothing was deleted.");

        await using var held = await locks.TryAcquireAsync(ConsoleLocks.ForRetention(targetId), ct);
        if (held is null)
        {
            var busy = $"Retention is already running for target '{target}' in another console instance; nothing was changed here. It will run again after the next backup.";
            await audit.RecordAsync(actor, AuditActions.RetentionRun, target, AuditOutcome.Failed, busy, ct);
            return new RetentionRunResult(targetId, false, null, 0, 0, 0, [busy]);
        }

        var records = await LoadAsync(db, targetId, ct);
        var sets = await LoadSetsAsync(db, targetId, ct);
        var plan = await PlanAsync(targetId, records, sets, ct);
        var setsById = sets.ToDictionary(s => s.Id);
        // A candidate is a backup on its own or a whole set: what is done to a set is done to its members.
        var membersOf = records.Where(r => r.SetId is not null).ToLookup(r => r.SetId!.Value);
        IReadOnlyList<BackupRecord> RecordsOf(Guid id, bool keptOnly) => setsById.ContainsKey(id)
            ? [.. membersOf[id].Where(m => !keptOnly || Sets.SetRetention.IsKept(m))]
            : [records.Single(r => r.Id == id)];
        var errors = new List<string>();
        // A file a queued or running verification or restore needs stays where it is; the next run deals with it.
        var readers = await BackupReaders.ActiveAsync(db, [.. records.Select(r => r.Id)], ct);
        // A set is left whole: none of its files goes while any of them is needed. Worked out once, before anything moves.
        var neededNow = plan.Prunes.Select(p => p.BackupId).Concat(plan.Expired.Select(d => d.BackupId)).Distinct()
            .SelectMany(id => RecordsOf(id, keptOnly: false).Where(r => readers.ContainsKey(r.Id)).Select(r => (Candidate: id, Record: r)))
            .ToList();
        var inUse = neededNow.Select(n => n.Candidate).ToHashSet();
        var deferred = neededNow.Select(n => $"{n.Record.FileName} is needed by {readers[n.Record.Id]}.").Distinct(StringComparer.Ordinal).ToList();
        bool InUse(Guid candidate) => inUse.Contains(candidate);

        var failedCopies = new HashSet<Guid>();
        int copied = 0, pruned = 0, expired = 0;

        foreach (var copy in plan.Copies)
        {
            foreach (var record in RecordsOf(copy.BackupId, keptOnly: true).Where(r => r.Locations.All(l => l.Store != copy.ToStore)))
            {
                try
                {
                    await CopyToTierAsync(record, copy, ct);
                    record.Tier = TierName(plan.For(copy.BackupId).Tier, record.Tier);
                    await db.SaveChangesAsync(ct);
                    copied++;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failedCopies.Add(copy.BackupId);
                    errors.Add($"Copying {record.FileName} to store '{copy.ToStore}' failed: {e.Message} Its other copies were left as they are.");
                    logger.LogWarning(e, "Copying backup {BackupId} to store {Store} failed", record.Id, copy.ToStore);
                }
            }

            if (setsById.TryGetValue(copy.BackupId, out var copiedSet) && !failedCopies.Contains(copy.BackupId))
            {
                await setFiles.CopySetFilesAsync(copiedSet, copy.ToStore, ct);
            }
        }

        foreach (var (prune, record) in plan.Prunes.Where(p => !failedCopies.Contains(p.BackupId) && !InUse(p.BackupId))
            .SelectMany(p => RecordsOf(p.BackupId, keptOnly: true).Where(r => r.Locations.Any(l => l.Store == p.FromStore)).Select(r => (p, r))))
        {
            var location = record.Locations.Single(l => l.Store == prune.FromStore);
            var outcome = await objects.DeleteAsync(record, location, RetryNote, ct);
            if (outcome is null)
            {
                record.Locations.Remove(location);
                await db.SaveChangesAsync(ct);
                pruned++;
            }
            else
            {
                errors.Add(outcome);
            }

            await audit.RecordAsync(actor, AuditActions.BackupDeleted, $"{target}/{record.FileName}", outcome is null ? AuditOutcome.Succeeded : AuditOutcome.Failed,
                outcome ?? $"Removed the copy in store '{prune.FromStore}' ({prune.Explanation}).", ct);
        }

        foreach (var (decision, record) in plan.Expired.Where(d => !InUse(d.BackupId)).SelectMany(d => RecordsOf(d.BackupId, keptOnly: false).Select(r => (d, r))))
        {
            var problems = new List<string>();
            foreach (var location in record.Locations.ToList())
            {
                if (await objects.DeleteAsync(record, location, RetryNote, ct) is { } problem)
                {
                    problems.Add(problem);
                }
                else
                {
                    record.Locations.Remove(location);
                }
            }

            if (problems.Count == 0)
            {
                record.Status = BackupStatus.Expired;
                record.ExpiredAt = time.GetUtcNow();
                expired++;
            }

            await db.SaveChangesAsync(ct);
            errors.AddRange(problems);
            logger.LogInformation("Retention for target {Target}: {FileName} {Outcome}. {Explanation}", target, record.FileName,
                problems.Count == 0 ? "expired" : "could not be expired", decision.Explanation);
            await audit.RecordAsync(actor, AuditActions.BackupDeleted, $"{target}/{record.FileName}", problems.Count == 0 ? AuditOutcome.Succeeded : AuditOutcome.Failed,
                problems.Count == 0 ? $"Expired by retention: {decision.Explanation}" : string.Join(" ", problems), ct);
        }

        expired += await ExpireSetsAsync(db, plan, setsById, membersOf, errors, ct);
        var result = new RetentionRunResult(targetId, true, plan, copied, pruned, expired, errors) { Deferred = deferred };
        await audit.RecordAsync(actor, AuditActions.RetentionRun, target, errors.Count == 0 ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            (plan.SafetyHold ? "The latest backup run failed, so nothing was expired. " : "") + result.Summary, ct);
        logger.LogInformation("Retention for target {Target}: {Summary}", target, result.Summary);
        await (notices?.RetentionAppliedAsync(result, target) ?? Task.CompletedTask);
        return result;
    }

    private async Task<List<BackupRecord>> LoadAsync(ConsoleDbContext db, Guid targetId, CancellationToken ct) =>
        await db.Backups.Include(b => b.Locations)
            .Where(b => b.TargetId == targetId && b.Status != BackupStatus.Expired)
            .AsSplitQuery()
            .ToListAsync(ct);

    private static async Task<List<Sets.BackupSet>> LoadSetsAsync(ConsoleDbContext db, Guid targetId, CancellationToken ct) =>
        await db.Set<Sets.BackupSet>().Where(s => s.TargetId == targetId && s.Status != Sets.BackupSetStatus.Expired).ToListAsync(ct);

    private async Task<RetentionPlan> PlanAsync(Guid targetId, List<BackupRecord> records, List<Sets.BackupSet> sets, CancellationToken ct)
    {
        var passes = verifications is null ? new Dictionary<Guid, DateTimeOffset>() : await verifications.LastPassesAsync(targetId, ct);
        var candidates = Sets.SetRetention.Candidates(records, sets, passes);
        var plan = RetentionPlanner.Plan(candidates, time.GetUtcNow(), (await PolicyOptionsAsync(ct)).ToPolicy(stores.Layout), scheduleOptions.Value.Zone());
        return Sets.SetRetention.ProtectNewestOfEachDatabase(plan, records);
    }

    /// <summary>Marks expired the sets whose members were all expired above, once their own files are gone too.</summary>
    private async Task<int> ExpireSetsAsync(ConsoleDbContext db, RetentionPlan plan, Dictionary<Guid, Sets.BackupSet> setsById,
        ILookup<Guid, BackupRecord> membersOf, List<string> errors, CancellationToken ct)
    {
        var expired = 0;
        foreach (var decision in plan.Expired.Where(d => setsById.ContainsKey(d.BackupId)))
        {
            var set = setsById[decision.BackupId];
            if (membersOf[set.Id].Any(m => m.Status != BackupStatus.Expired && Sets.SetRetention.IsKept(m)))
            {
                continue;
            }

            var problems = await setFiles.DeleteSetFilesAsync(set, setFiles.AllStores, ct);
            errors.AddRange(problems);
            if (problems.Count == 0)
            {
                set.Status = Sets.BackupSetStatus.Expired;
                set.ExpiredAt = time.GetUtcNow();
                await db.SaveChangesAsync(ct);
                expired++;
            }
        }

        return expired;
    }

    private async Task CopyToTierAsync(BackupRecord record, RetentionCopy copy, CancellationToken ct)
    {
        var destination = stores.Get(copy.ToStore);
        if (record.Locations.Any(l => l.Store == destination.Name))
        {
            // Already there (an earlier copy of this run reached it): one catalog location per store.
            return;
        }

        var sources = record.Locations.Where(l => stores.TryGet(l.Store, out _)).ToList();
        if (sources.Count == 0)
        {
            throw new InvalidOperationException("none of the stores holding it is configured any more.");
        }

        // Inside S3 when possible; otherwise from the local disk first, the cheapest to read.
        var source = sources.FirstOrDefault(l => destination is S3BackupStore s3 && s3.CanCopyServerSideFrom(stores.Get(l.Store)))
            ?? sources.FirstOrDefault(l => stores.Get(l.Store) is not S3BackupStore)
            ?? sources[0];
        var from = stores.Get(source.Store);
        var keys = await BackupObjects.ListAsync(from, source.Key, ct);

        // The dump first, its manifest after: a manifest is only ever beside a complete file.
        foreach (var key in keys)
        {
            if (destination is S3BackupStore to && from is S3BackupStore s3From && to.CanCopyServerSideFrom(from))
            {
                await to.CopyFromAsync(s3From, key.Key, ct);
            }
            else if (key.Key != source.Key && key.Size <= SmallObjectLimit)
            {
                await using var read = await from.OpenReadAsync(key.Key, ct);
                using var buffer = new MemoryStream();
                await read.CopyToAsync(buffer, ct);
                await destination.PutSmallAsync(key.Key, buffer.ToArray(), ct);
            }
            else
            {
                await using var read = await from.OpenReadAsync(key.Key, ct);
                await using var upload = await destination.BeginUploadAsync(key.Key, ct);
                await read.CopyToAsync(upload.Stream, ct);
                await upload.CompleteAsync(ct);
            }
        }

        record.Locations.Add(new BackupLocation
        {
            BackupId = record.Id,
            Store = destination.Name,
            Key = source.Key,
            StorageClass = (destination as S3BackupStore)?.StorageClass,
            StoredAt = time.GetUtcNow(),
        });
        logger.LogInformation("Copied backup {File} from store {From} to {Tier} store {To}", record.FileName, from.Name, copy.Tier.Name(), destination.Name);
    }

    private static string TierName(BackupTier? tier, string current) =>
        tier is { } t && (int)t > (int)(BackupTiers.Parse(current) ?? BackupTier.Daily) ? t.Name() : current;
}
