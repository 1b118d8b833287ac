using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Backups;

/// <summary>Backups as runs. A backup's catalog entry outlives its run (it is pinned, copied to tiers, expired), so its
/// catalog status follows the run's here; after a dead instance's backup, its unfinished uploads are discarded.</summary>
internal sealed class BackupRunKind(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IBackupStoreRegistry stores,
    IServiceProvider services,
    ILogger<BackupRunKind> logger) : IRunKind
{
    public RunKind Kind => RunKind.Backup;

    public string? FinishedAuditAction => AuditActions.BackupFinished;

    public async Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct) =>
        await db.Backups.Where(b => b.Id == run.Id).Select(b => b.FileName).FirstOrDefaultAsync(ct) ?? run.Id.ToString();

    public async Task OnStatusChangedAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct)
    {
        var active = db.Backups.Where(b => b.Id == run.Id && (b.Status == BackupStatus.Queued || b.Status == BackupStatus.Running));
        switch (run.Status)
        {
            case RunStatus.Running:
                await active.ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BackupStatus.Running).SetProperty(b => b.StartedAt, run.StartedAt), ct);
                break;
            case RunStatus.Failed or RunStatus.Cancelled:
                // A finished file is never turned into a failure; only a backup still in progress ends here.
                var status = run.Status == RunStatus.Failed ? BackupStatus.Failed : BackupStatus.Cancelled;
                await active.ExecuteUpdateAsync(s => s
                    .SetProperty(b => b.Status, status)
                    .SetProperty(b => b.Error, run.Error)
                    .SetProperty(b => b.FinishedAt, run.FinishedAt), ct);
                break;
            default:
                // Succeeded: the runner writes the catalog entry itself, in the same transaction.
                break;
        }
    }

    public async Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        string? fileName;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            fileName = await db.Backups.Where(b => b.Id == run.Id).Select(b => b.FileName).FirstOrDefaultAsync(ct);
        }

        if (fileName is null)
        {
            return new AbandonedRunCleanup("It has no catalog entry, so nothing of it was looked for in storage; take a new backup.");
        }

        var removed = new List<string>();
        var problems = new List<string>();
        foreach (var store in stores.All)
        {
            try
            {
                if (await store.DiscardUnfinishedAsync(fileName, ct) > 0)
                {
                    removed.Add(store.Name);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                problems.Add($"{store.Name} ({e.Message})");
            }
        }

        var done = removed.Count == 0 ? "Nothing of it was left in storage." : $"Its unfinished file was removed from {string.Join(", ", removed)}.";
        var left = problems.Count == 0 ? "" : $" What it left in {string.Join(", ", problems)} could not be checked; a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes unfinished uploads.";
        return new AbandonedRunCleanup($"{done}{left}");
    }

    /// <summary>The run may have died after its file and manifest were complete in storage (while the catalog was being
    /// updated): the backup is reconciled with what the stores hold, so a good file is never labelled failed, and the
    /// unfinished S3 uploads it left are aborted.</summary>
    public async Task<string?> AfterAbandonedRunEndedAsync(RunRecord run, CancellationToken ct)
    {
        // Resolved here: the reconciler and the sweep of uploads come with storage, which registers after the run kinds.
        var reconciled = await services.GetRequiredService<BackupReconciler>().ReconcileAsync(run.Id, ct);
        var sweep = await services.GetRequiredService<S3UploadLeftovers>().AbortAsync(ct);
        var aborted = sweep.Aborted.Count == 0 ? "" : $" Unfinished uploads aborted: {string.Join(", ", sweep.Aborted)}.";
        var unswept = sweep.Problems.Count == 0 ? "" : $" Unfinished uploads could not be checked in {string.Join(" ", sweep.Problems)}; a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them.";
        var verdict = reconciled switch
        {
            { Change: not null, After: BackupStatus.Succeeded or BackupStatus.PartiallyStored } r =>
                $"Its file was complete in storage, so the backup is {(r.After == BackupStatus.Succeeded ? "succeeded" : "partially stored")}: {r.Change}",
            { Change: not null } r => r.Change,
            { After: BackupStatus.Failed or BackupStatus.Cancelled } => "No complete copy of it was found in storage; take a new backup.",
            _ => null,
        };
        var found = verdict is null && aborted.Length == 0 && unswept.Length == 0 ? null : (verdict + aborted + unswept).Trim();
        if (found is not null && reconciled is { After: BackupStatus.Failed or BackupStatus.Cancelled })
        {
            // The catalog entry says what the run's error says.
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.Backups.Where(b => b.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.Error, b => b.Error + " " + found), CancellationToken.None);
        }

        return found;
    }

    /// <summary>Partial files of backups that no queued or running backup owns (left by a crash, or by a console before
    /// this one).</summary>
    public async Task TidyAsync(CancellationToken ct)
    {
        List<string> backups;
        List<string> sets;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backups = await db.Backups.Where(b => b.Status == BackupStatus.Running || b.Status == BackupStatus.Queued).Select(b => b.FileName).ToListAsync(ct);
            sets = await db.Set<Sets.BackupSet>().Where(s => s.Status == Sets.BackupSetStatus.Running || s.Status == Sets.BackupSetStatus.Queued).Select(s => s.Name).ToListAsync(ct);
        }

        var owned = new PartialFileOwners(backups, sets);
        foreach (var local in stores.All.OfType<LocalDiskBackupStore>())
        {
            foreach (var removed in local.RemovePartialFiles(owned.Owns))
            {
                logger.LogWarning("Removed the partial file of {File}, left by a backup that did not finish", removed);
            }
        }
    }
}
