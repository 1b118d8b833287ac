using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Restores a backup into a new database (Operator, Admin) or over the live one (Admin, typed confirmation,
/// safety backup first). The file is proven intact before any database is touched, and one restore per target
/// database runs at a time across every console instance. The rules are <see cref="RestoreRequests"/>', the work the
/// <see cref="RestoreRunner"/>'s.</summary>
public sealed class RestoreService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RestoreRequests requests,
    RestoreRunner runner,
    RestoreRunQueries queries,
    RunLifecycle lifecycle,
    RunCancellation cancellation,
    CallerGate gate,
    IOptionsMonitor<RestoreOptions> options)
{
    /// <summary>Validates the request and queues it as a background job. Throws <see cref="RestoreRefusedException"/>
    /// (nothing happened) or <see cref="PermissionDeniedException"/>.</summary>
    public async Task<Guid> RequestAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        var runId = await requests.AcceptAsync(actor, request, ct);
        await lifecycle.EnqueueAsync<RestoreJob>(runId, j => j.RunAsync(runId, CancellationToken.None), ct);
        return runId;
    }

    /// <summary>Validates the request and runs it in the caller (recovery wizards, tests). Returns the finished run;
    /// throws <see cref="RestoreFailedException"/> when it failed.</summary>
    public async Task<RestoreRunDetails> RestoreAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        var runId = await requests.AcceptAsync(actor, request, ct);
        await RunAsync(runId, ct);
        return (await GetAsync(runId, CancellationToken.None))!;
    }

    /// <summary>Why a name cannot be restored into, or whether it already exists, on the backup's target server.</summary>
    public Task<DatabaseNameCheck> CheckDatabaseNameAsync(Guid backupId, string name, CancellationToken ct) => requests.CheckDatabaseNameAsync(backupId, name, null, ct);

    /// <summary>The same on a server the person names (a connection string; null for the target's own).</summary>
    public Task<DatabaseNameCheck> CheckDatabaseNameAsync(Guid backupId, string name, string? serverConnectionString, CancellationToken ct) =>
        requests.CheckDatabaseNameAsync(backupId, name, serverConnectionString, ct);

    /// <summary>Runs a queued restore. Re-entrant: a run that is no longer queued is left alone.</summary>
    public Task RunAsync(Guid runId, CancellationToken ct) => runner.RunAsync(runId, ct);

    /// <summary>Stops a queued or running restore, here or on the instance that runs it. Into a new database: pg_restore
    /// stops and the half-restored database this run created is dropped. In place: allowed while nothing has been
    /// written, or inside the single transaction (rolled back, the live database stays as it was); refused while a
    /// multi-job restore writes to the live database, because stopping then would leave it half-restored. Needs the
    /// permission the restore's mode needs.</summary>
    public async Task<RunCancelResult> CancelAsync(Actor actor, Guid runId, CancellationToken ct)
    {
        // The least permission any restore needs first, so a caller without it learns nothing about the run.
        actor = await gate.DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, AuditActions.RestoreCancelled, runId.ToString(), ct);
        RestoreRun run;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            run = await db.Set<RestoreRun>().AsNoTracking().Include(r => r.Run).FirstOrDefaultAsync(r => r.Id == runId, ct)
                ?? throw new KeyNotFoundException($"There is no restore run {runId}. Nothing was cancelled.");
        }

        if (run.Mode == RestoreMode.InPlace)
        {
            actor = await gate.DemandAsync(actor, ConsolePermission.RestoreInPlace, AuditActions.RestoreCancelled, run.DatabaseName, ct);
        }

        if (run.Run!.Status is not (RunStatus.Queued or RunStatus.Running))
        {
            throw new InvalidOperationException(
                $"The restore into {run.DatabaseName} has already {run.Run.Status.ToString().ToLowerInvariant()}; only a queued or running one can be cancelled. Nothing was changed.");
        }

        if (run.Mode == RestoreMode.InPlace && run.RestoreStartedAt is not null && !options.CurrentValue.InPlaceSingleTransaction)
        {
            throw new InvalidOperationException(
                $"pg_restore is writing into the live database {run.DatabaseName} without a single transaction: stopping it now would leave it half-restored. It was not stopped. Let it finish; the safety backup holds the state before it.");
        }

        return await cancellation.CancelAsync(runId, actor, new RunCancelTexts(AuditActions.RestoreCancelled, $"{run.BackupFileName} → {run.DatabaseName}",
            $"{run.DatabaseName} was not touched.", "pg_restore is stopped and what it left is cleaned up as the run's record says."), ct);
    }

    public Task<RestoreRunPage> QueryAsync(int page, int pageSize, CancellationToken ct) => queries.QueryAsync(page, pageSize, ct);

    public Task<RestoreRunDetails?> GetAsync(Guid runId, CancellationToken ct) => queries.GetAsync(runId, ct);

    /// <summary>Backups that can be restored, newest first, for the dialog's picker.</summary>
    public Task<IReadOnlyList<RestorableBackup>> ListRestorableAsync(int take, CancellationToken ct) => queries.ListRestorableAsync(take, ct);
}

/// <summary>A finished backup offered for restore, with the name of its target's live database (for the typed confirmation).</summary>
public sealed record RestorableBackup(Guid Id, string FileName, DateTimeOffset CreatedAt, long? SizeBytes, BackupTrigger Trigger, string TargetName, string LiveDatabase)
{
    /// <summary>False for a target re-created by a catalog rebuild: it restores only into a server the person names,
    /// until an administrator gives it its connection (Settings → Targets).</summary>
    public bool TargetHasConnection { get; init; } = true;
}
