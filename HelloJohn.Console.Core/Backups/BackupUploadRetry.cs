using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Backups;

/// <summary>Completes a partially stored backup: copies it from a store that holds it into the daily stores that lack
/// it, its SHA-256 checked on the way.</summary>
public sealed class BackupUploadRetry(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    IAuditLog audit,
    RunProgressNotifier notifier,
    TimeProvider time)
{
    /// <summary>Copies a partially stored backup from a store that holds it into the daily stores that lack it, checking
    /// its SHA-256 on the way. Returns the stores it reached.</summary>
    internal async Task<IReadOnlyList<string>> RetryAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.Backups.Include(b => b.Locations).FirstOrDefaultAsync(b => b.Id == backupId, ct)
            ?? throw new KeyNotFoundException($"No backup {backupId}.");
        if (record.Status != BackupStatus.PartiallyStored)
        {
            throw new InvalidOperationException($"{record.FileName} is {record.Status.ToString().ToLowerInvariant()}; only a partially stored backup needs its upload retried.");
        }

        var source = record.Locations.Select(l => stores.TryGet(l.Store, out var st) ? st : null).FirstOrDefault(st => st is not null)
            ?? throw new InvalidOperationException($"No configured store holds {record.FileName} any more; it cannot be copied.");
        var missing = stores.StoresOf(BackupTier.Daily).Where(st => record.Locations.All(l => l.Store != st.Name)).ToList();
        byte[] manifest;
        await using (var manifestStream = await source.OpenReadAsync(BackupManifest.KeyFor(record.FileName), ct))
        using (var buffer = new MemoryStream())
        {
            await manifestStream.CopyToAsync(buffer, ct);
            manifest = buffer.ToArray();
        }

        var reached = new List<string>();
        var failures = new List<string>();
        foreach (var target in missing)
        {
            try
            {
                await using var upload = await target.BeginUploadAsync(record.FileName, ct);
                await using (var input = await source.OpenReadAsync(record.FileName, ct))
                await using (var hashing = new FanOutStream([upload.Stream]))
                {
                    await input.CopyToAsync(hashing, 1 << 20, ct);
                    var sha = hashing.FinishHash();
                    if (!string.Equals(sha, record.Sha256, StringComparison.Ordinal))
                    {
                        await upload.AbortAsync();
                        throw new InvalidDataException($"the copy in {source.Name} no longer matches its SHA-256 ({sha[..12]} ≠ {record.Sha256?[..12]}); it was not copied");
                    }
                }

                await upload.CompleteAsync(ct);
                await target.PutSmallAsync(BackupManifest.KeyFor(record.FileName), manifest, ct);
                db.Set<BackupLocation>().Add(new BackupLocation { BackupId = record.Id, Store = target.Name, Key = record.FileName, StoredAt = time.GetUtcNow() });
                reached.Add(target.Name);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures.Add($"{target.Name}: {e.Message}");
            }
        }

        if (failures.Count == 0)
        {
            record.Status = BackupStatus.Succeeded;
            record.Error = null;
        }
        else
        {
            record.Error = $"Retry reached {(reached.Count == 0 ? "no store" : string.Join(", ", reached))}; still missing in {string.Join("; ", failures)}.";
        }

        await db.SaveChangesAsync(CancellationToken.None);
        await audit.RecordAsync(actor, AuditActions.BackupUploadRetried, record.FileName, failures.Count == 0 ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            failures.Count == 0 ? $"copied to {string.Join(", ", reached)}" : record.Error, CancellationToken.None);
        notifier.Publish(new RunProgress(RunKind.Backup, record.Id, RunStatus.Succeeded, RunEnd.DonePhase, record.SizeBytes ?? 0) { Error = record.Error });
        return reached;
    }
}
