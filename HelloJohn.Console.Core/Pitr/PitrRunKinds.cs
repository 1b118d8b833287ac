using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Base backups as runs. The catalog entry outlives its run (retention expires it), so its status follows the
/// run's here; after a dead instance's base backup, what it stored and its scratch folder are removed, so the window
/// never starts at a backup that was never complete.</summary>
internal sealed class BaseBackupRunKind(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    PitrArchiveStores stores,
    PitrWorkspace workspace,
    PitrNotifier notifier,
    IServiceProvider services,
    ILogger<BaseBackupRunKind> logger) : IRunKind
{
    public RunKind Kind => RunKind.BaseBackup;

    public string? FinishedAuditAction => AuditActions.PitrBaseBackupFinished;

    public async Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct) =>
        $"base backup of {run.Target?.Name ?? await db.Targets.Where(t => t.Id == run.TargetId).Select(t => t.Name).FirstOrDefaultAsync(ct) ?? "a removed server"} ({run.Id:N})";

    public async Task OnStatusChangedAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct)
    {
        var active = db.Set<BaseBackupRecord>().Where(b => b.Id == run.Id && (b.Status == BaseBackupStatus.Queued || b.Status == BaseBackupStatus.Running));
        switch (run.Status)
        {
            case RunStatus.Running:
                await active.ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BaseBackupStatus.Running).SetProperty(b => b.StartedAt, run.StartedAt ?? run.CreatedAt), ct);
                break;
            case RunStatus.Failed or RunStatus.Cancelled:
                var status = run.Status == RunStatus.Failed ? BaseBackupStatus.Failed : BaseBackupStatus.Cancelled;
                await active.ExecuteUpdateAsync(s => s
                    .SetProperty(b => b.Status, status)
                    .SetProperty(b => b.Error, run.Error)
                    .SetProperty(b => b.FinishedAt, run.FinishedAt), ct);
                break;
            case RunStatus.Succeeded:
                // The engine wrote the catalog entry in the same transaction; its end is the run's.
                await db.Set<BaseBackupRecord>().Where(b => b.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.FinishedAt, run.FinishedAt), ct);
                break;
        }
    }

    public async Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        BaseBackupRecord? record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Set<BaseBackupRecord>().AsNoTracking().FirstOrDefaultAsync(b => b.Id == run.Id, ct);
        }

        if (record is null)
        {
            return new AbandonedRunCleanup("It has no catalog entry, so nothing of it was looked for in storage.");
        }

        var left = await BaseBackupEngine.RemoveStoredAsync(stores, record.KeyPrefix, logger);
        var stored = left is null ? "What it had stored was removed from the stores." : $"What it had stored could not all be removed ({left}): remove it by hand.";
        string scratch;
        if (run.OwnerHost == ConsoleInstance.Host)
        {
            var folders = workspace.ScratchFoldersOf(BaseBackupEngine.ScratchPurpose, run.Id);
            foreach (var folder in folders)
            {
                BaseBackupEngine.TryDelete(folder);
            }

            var kept = folders.Where(Directory.Exists).ToList();
            scratch = folders.Count == 0 ? " No scratch folder of it is left on this host."
                : kept.Count > 0 ? $" Its scratch folder {string.Join(", ", kept)} could not be removed: remove it by hand."
                : $" Its scratch folder {string.Join(", ", folders)} was removed.";
        }
        else
        {
            scratch = $" Its scratch folder is on {run.OwnerHost ?? "the host that ran it"}, not here; the console there removes it when it next starts.";
        }

        return new AbandonedRunCleanup($"{stored}{scratch} A new base backup can be taken now.");
    }

    /// <summary>A server still streaming with no complete base backup has no window: a new base backup is queued at once
    /// rather than at the receiver's next start.</summary>
    public async Task<string?> AfterAbandonedRunEndedAsync(RunRecord run, CancellationToken ct)
    {
        if (run.TargetId is not { } server)
        {
            return null;
        }

        notifier.Publish(server);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var streaming = await db.Set<PitrServerState>().AnyAsync(s => s.TargetId == server && !s.Paused, ct);
            if (!streaming || await db.Set<BaseBackupRecord>().AnyAsync(b => b.TargetId == server && b.Status == BaseBackupStatus.Succeeded, ct))
            {
                return null;
            }
        }

        // Resolved here: the requester queues through the run lifecycle, which holds the run kinds.
        await services.GetRequiredService<IBaseBackupRequester>().EnsureOneAsync(server, "the previous base backup was abandoned", ct);
        return "The server had no complete base backup, so a new one was queued.";
    }
}

/// <summary>Restores to a point in time as runs. After a dead instance's restore, the PostgreSQL server it started (pg_ctl
/// daemonizes it, so it outlives the console) is stopped and the data directory removed if the restore created it.</summary>
internal sealed class PitrRestoreRunKind(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IPgToolRunner runner,
    PitrNotifier notifier) : IRunKind
{
    public RunKind Kind => RunKind.PitrRestore;

    public string? FinishedAuditAction => AuditActions.PitrRestoreFinished;

    public async Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct) =>
        await db.Set<PitrRestoreRecord>().Where(r => r.Id == run.Id).Select(r => r.DataDirectory).FirstOrDefaultAsync(ct) ?? run.Id.ToString();

    public async Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        PitrRestoreRecord? record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Set<PitrRestoreRecord>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == run.Id, ct);
        }

        if (record is null)
        {
            return new AbandonedRunCleanup("It has no restore record: check its host for a PostgreSQL server it may have started.");
        }

        var dir = record.DataDirectory;
        var byHand = $"stop a server there with pg_ctl -D {dir} -m immediate stop, then remove {dir} if nothing in it is needed.";
        if (run.OwnerHost != ConsoleInstance.Host)
        {
            return new AbandonedRunCleanup($"It ran on {run.OwnerHost ?? "another host"}, where its data directory is: nothing was touched from here; on that host, {byHand}");
        }

        if (record.DataDirectoryCreated is not { } created)
        {
            return new AbandonedRunCleanup($"It stopped before it wrote into {dir}; nothing was left there. Restore again.");
        }

        var stopped = await PointInTimeRestoreEngine.StopServerAsync(runner, dir) is { } why
            ? $"The server it had started in {dir} could not be stopped ({why}): {byHand}"
            : $"The server it may have started in {dir} (port {record.Port}) is stopped.";
        if (File.Exists(Path.Combine(dir, "postmaster.pid")))
        {
            return new AbandonedRunCleanup($"{stopped} The directory was kept, as its server may still run.");
        }

        PointInTimeRestoreEngine.RemoveWritten(dir, created);
        var removed = created
            ? Directory.Exists(dir) ? $"{dir}, which it created, could not be removed: remove it by hand." : $"{dir}, which it created, was removed."
            : $"{dir} existed (empty) before the restore and was kept; what the restore wrote into it was removed.";
        return new AbandonedRunCleanup($"{stopped} {removed} Restore again.");
    }

    public Task<string?> AfterAbandonedRunEndedAsync(RunRecord run, CancellationToken ct)
    {
        if (run.TargetId is { } server)
        {
            notifier.Publish(server);
        }

        return Task.FromResult<string?>(null);
    }
}
