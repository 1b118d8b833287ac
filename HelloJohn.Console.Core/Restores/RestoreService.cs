using System.Diagnostics;
using Hangfire;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Restores a backup into a new database (Operator, Admin) or over the live one (Admin, typed confirmation,
/// safety backup first). The file is proven intact before any database is touched, and one restore per target
/// database runs at a time across every console instance.</summary>
public sealed class RestoreService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    BackupService backups,
    BackupArchiveChecker checker,
    ConsoleLocks locks,
    IPgToolRunner pgTools,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    RestoreProgressNotifier notifier,
    IOptionsMonitor<RestoreOptions> options,
    TimeProvider time,
    ILogger<RestoreService> logger)
{
    /// <summary>Restores executing in this process, so Cancel can stop them at once.</summary>
    private static readonly LocalRuns RunningHere = new();

    /// <summary>Validates the request and queues it as a background job. Throws <see cref="RestoreRefusedException"/>
    /// (nothing happened) or <see cref="PermissionDeniedException"/>.</summary>
    public async Task<Guid> RequestAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        var runId = await AcceptAsync(actor, request, ct);
        var jobId = jobs.Enqueue<RestoreJob>(j => j.RunAsync(runId, CancellationToken.None));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<RestoreRun>().Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, jobId), ct);
        return runId;
    }

    /// <summary>Validates the request and runs it in the caller (recovery wizards, tests). Returns the finished run;
    /// throws <see cref="RestoreFailedException"/> when it failed.</summary>
    public async Task<RestoreRunDetails> RestoreAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        var runId = await AcceptAsync(actor, request, ct);
        await RunAsync(runId, ct);
        return (await GetAsync(runId, CancellationToken.None))!;
    }

    /// <summary>Why a name cannot be restored into, or whether it already exists, on the backup's target server.</summary>
    public async Task<DatabaseNameCheck> CheckDatabaseNameAsync(Guid backupId, string name, CancellationToken ct)
    {
        if (DatabaseNames.Problem(name) is { } problem)
        {
            return new DatabaseNameCheck(problem, false);
        }

        var targetId = await TargetOfAsync(backupId, ct);
        var connection = await targets.GetConnectionAsync(targetId, ct);
        if (string.Equals(name, connection.Database, StringComparison.Ordinal))
        {
            return new DatabaseNameCheck($"'{name}' is the live HelloJohn database. Restoring over it is the in-place mode, for Admins only.", true);
        }

        await using var conn = new NpgsqlConnection(connection.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        return new DatabaseNameCheck(null, await ServerDatabases.ExistsAsync(conn, name, ct));
    }

    private async Task<Guid> AcceptAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        var permission = request.Mode == RestoreMode.InPlace ? ConsolePermission.RestoreInPlace : ConsolePermission.RestoreToNewDatabase;
        var what = $"{request.Mode} → {request.DatabaseName}";
        if (!actor.Has(permission))
        {
            await audit.RecordAsync(actor, AuditActions.RestoreRequested, what, AuditOutcome.Denied, ct: ct);
            actor.Demand(permission);
        }

        try
        {
            return await CreateRunAsync(actor, request, ct);
        }
        catch (RestoreRefusedException e)
        {
            await audit.RecordAsync(actor, AuditActions.RestoreRequested, what, AuditOutcome.Failed, e.Message, ct);
            throw;
        }
    }

    private async Task<Guid> CreateRunAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        BackupRecord? backup;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backup = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == request.BackupId, ct);
        }

        if (backup is null)
        {
            throw new RestoreRefusedException($"There is no backup {request.BackupId} in the catalog. Nothing was restored.");
        }

        if (backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            throw new RestoreRefusedException($"{backup.FileName} is {backup.Status.ToString().ToLowerInvariant()}; only a finished backup can be restored. Nothing was restored.");
        }

        var connection = await targets.GetConnectionAsync(backup.TargetId, ct);
        var live = connection.Database!;
        var name = request.DatabaseName;
        if (request.Mode == RestoreMode.InPlace)
        {
            if (!string.Equals(name, live, StringComparison.Ordinal))
            {
                throw new RestoreRefusedException($"A restore in place goes into the live database {live}, not '{name}'. Nothing was restored.");
            }

            if (!string.Equals(request.Confirmation, live, StringComparison.Ordinal))
            {
                throw new RestoreRefusedException($"To restore over the live database, type its name exactly: {live}. Nothing was restored.");
            }
        }
        else
        {
            if (DatabaseNames.Problem(name) is { } problem)
            {
                throw new RestoreRefusedException(problem + " Nothing was restored.");
            }

            if (string.Equals(name, live, StringComparison.Ordinal))
            {
                throw new RestoreRefusedException($"'{name}' is the live HelloJohn database. Restoring over it is the in-place mode, for Admins only. Nothing was restored.");
            }

            await using var conn = new NpgsqlConnection(connection.Unpooled().ConnectionString);
            await conn.OpenAsync(ct);
            if (await ServerDatabases.ExistsAsync(conn, name, ct))
            {
                if (!request.ReplaceExisting)
                {
                    throw new RestoreRefusedException($"A database named {name} already exists on {connection.Host}:{connection.Port}. Choose another name, or confirm that it should be dropped and replaced. Nothing was restored.");
                }

                if (await ProtectedReasonAsync(connection, name, ct) is { } reason)
                {
                    throw new RestoreRefusedException($"{name} cannot be replaced: {reason} Nothing was dropped or restored.");
                }
            }
        }

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var busy = await db.Set<RestoreRun>().AnyAsync(r => r.TargetId == backup.TargetId && r.DatabaseName == name &&
                (r.Status == RestoreStatus.Queued || r.Status == RestoreStatus.Running), ct);
            if (busy || await locks.IsHeldAsync(ConsoleLocks.ForRestore(backup.TargetId, name), ct))
            {
                throw new RestoreRefusedException($"Another restore into {name} is queued or running (on this or another console instance). Wait for it to finish; nothing was started.");
            }

            var run = new RestoreRun
            {
                Id = Guid.NewGuid(),
                BackupId = backup.Id,
                BackupFileName = backup.FileName,
                TargetId = backup.TargetId,
                Mode = request.Mode,
                DatabaseName = name,
                Server = $"{connection.Host}:{connection.Port}",
                ReplaceExisting = request.Mode == RestoreMode.NewDatabase && request.ReplaceExisting,
                Status = RestoreStatus.Queued,
                Phase = RestorePhase.Queued,
                RequestedBy = actor.Name,
                RequestedByUserId = actor.UserId,
                CreatedAt = time.GetUtcNow(),
                Jobs = JobsFor(request.Mode),
            };
            db.Add(run);
            await db.SaveChangesAsync(ct);
            await audit.RecordAsync(actor, AuditActions.RestoreRequested, $"{request.Mode} → {name}", AuditOutcome.Succeeded,
                $"from {backup.FileName}{(run.ReplaceExisting ? ", replacing the existing database" : "")}", ct);
            notifier.Publish(new RestoreProgress(run.Id, run.Status, run.Phase, 0, 0, null));
            return run.Id;
        }
    }

    private int JobsFor(RestoreMode mode) =>
        mode == RestoreMode.InPlace && options.CurrentValue.InPlaceSingleTransaction ? 1 : options.CurrentValue.EffectiveJobs;

    /// <summary>Databases that "replace" must never drop: the console's own, and any protected HelloJohn target.</summary>
    private async Task<string?> ProtectedReasonAsync(NpgsqlConnectionStringBuilder server, string name, CancellationToken ct)
    {
        foreach (var t in await targets.ListAsync(ct))
        {
            var c = await targets.GetConnectionAsync(t.Id, ct);
            if (string.Equals(c.Database, name, StringComparison.Ordinal) && c.Port == server.Port &&
                string.Equals(c.Host, server.Host, StringComparison.OrdinalIgnoreCase))
            {
                return $"it is the database of the protected target '{t.Name}'.";
            }
        }

        try
        {
            await using var conn = new NpgsqlConnection(server.Unpooled(name).ConnectionString);
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT to_regclass('public.__ef_migrations_history') IS NOT NULL AND to_regclass('public.backups') IS NOT NULL", conn);
            if ((bool)(await cmd.ExecuteScalarAsync(ct))!)
            {
                return "it holds a HelloJohn Console catalog (a console's own database).";
            }
        }
        catch (PostgresException)
        {
            // Not readable by the target's role: then it is not the console's database, which that role owns.
        }

        return null;
    }

    /// <summary>Runs a queued restore. Re-entrant: a run that is no longer queued is left alone.</summary>
    public async Task RunAsync(Guid runId, CancellationToken ct) =>
        await RunningHere.RunAsync(runId, ct, stop => RunRegisteredAsync(runId, stop));

    /// <summary>Stops a queued or running restore. Into a new database: pg_restore stops and the half-restored database
    /// this run created is dropped. In place: allowed while nothing has been written, or inside the single transaction
    /// (rolled back, the live database stays as it was); refused while a multi-job restore writes to the live database,
    /// because stopping then would leave it half-restored. Needs the permission the restore's mode needs.</summary>
    public async Task CancelAsync(Actor actor, Guid runId, CancellationToken ct)
    {
        // The least permission any restore needs first, so a caller without it learns nothing about the run.
        await DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, runId.ToString(), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Set<RestoreRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new KeyNotFoundException($"There is no restore run {runId}. Nothing was cancelled.");
        if (run.Mode == RestoreMode.InPlace)
        {
            await DemandAsync(actor, ConsolePermission.RestoreInPlace, run.DatabaseName, ct);
        }

        if (run.Status is not (RestoreStatus.Queued or RestoreStatus.Running))
        {
            throw new InvalidOperationException(
                $"The restore into {run.DatabaseName} has already {run.Status.ToString().ToLowerInvariant()}; only a queued or running one can be cancelled. Nothing was changed.");
        }

        if (run.Mode == RestoreMode.InPlace && run.RestoreStartedAt is not null && !options.CurrentValue.InPlaceSingleTransaction)
        {
            throw new InvalidOperationException(
                $"pg_restore is writing into the live database {run.DatabaseName} without a single transaction: stopping it now would leave it half-restored. It was not stopped. Let it finish; the safety backup holds the state before it.");
        }

        var here = await RunningHere.TryCancelAsync(runId);
        var endedQueued = await db.Set<RestoreRun>()
            .Where(r => r.Id == runId && r.Status == RestoreStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RestoreStatus.Cancelled)
                .SetProperty(r => r.Phase, RestorePhase.Done)
                .SetProperty(r => r.FinishedAt, time.GetUtcNow())
                .SetProperty(r => r.Error, $"Cancelled by {actor.Name} before it started. {run.DatabaseName} was not touched."), ct);
        if (run.JobId is not null && !here)
        {
            // Queued, or running on another console instance: deleting the job cancels its token there.
            jobs.Delete(run.JobId);
        }

        if (endedQueued == 1)
        {
            notifier.Publish(new RestoreProgress(runId, RestoreStatus.Cancelled, RestorePhase.Done, 0, 0, null));
        }

        var detail = endedQueued == 1 ? $"Cancelled before it started; {run.DatabaseName} was not touched."
            : here ? "Stopping: pg_restore is stopped and what it left is cleaned up as the run's record says."
            : "Running on another console instance: its job was deleted, which stops it there.";
        await audit.RecordAsync(actor, AuditActions.RestoreCancelled, $"{run.BackupFileName} → {run.DatabaseName}", AuditOutcome.Succeeded, detail, ct);
    }

    private async Task DemandAsync(Actor actor, ConsolePermission permission, string what, CancellationToken ct)
    {
        if (!actor.Has(permission))
        {
            await audit.RecordAsync(actor, AuditActions.RestoreCancelled, what, AuditOutcome.Denied, "Nothing was cancelled.", ct);
            actor.Demand(permission);
        }
    }

    private async Task RunRegisteredAsync(Guid runId, CancellationToken ct)
    {
        RestoreRun run;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            run = await db.Set<RestoreRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
                ?? throw new KeyNotFoundException($"No restore run {runId}.");
        }

        if (run.Status != RestoreStatus.Queued)
        {
            logger.LogInformation("Restore {RunId} is {Status}, not queued; nothing to do", runId, run.Status);
            return;
        }

        var actor = ActorOf(run);
        await using var held = await locks.TryAcquireAsync(ConsoleLocks.ForRestore(run.TargetId, run.DatabaseName), ct);
        if (held is null)
        {
            var busy = $"Another restore into {run.DatabaseName} is running (on this or another console instance). This one did not start; nothing was touched.";
            await FinishAsync(run, actor, RestoreStatus.Failed, busy, null);
            throw new RestoreFailedException(busy) { RunId = run.Id };
        }

        await FailStaleRunsAsync(run);
        var startedAt = time.GetUtcNow();
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Claimed only if still queued: a cancellation that came first wins.
            var claimed = await db.Set<RestoreRun>()
                .Where(r => r.Id == runId && r.Status == RestoreStatus.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RestoreStatus.Running).SetProperty(r => r.StartedAt, startedAt), ct);
            if (claimed == 0)
            {
                logger.LogInformation("Restore {RunId} was cancelled before it started; nothing to do", runId);
                return;
            }
        }

        run.Status = RestoreStatus.Running;
        run.StartedAt = startedAt;
        await SetPhaseAsync(run, RestorePhase.Checking);
        var createdHere = false;
        var watch = Stopwatch.StartNew();
        NpgsqlConnectionStringBuilder? connection = null;
        string? safetyFile = null;
        try
        {
            connection = await targets.GetConnectionAsync(run.TargetId, ct);
            await using var archive = await CheckArchiveAsync(run, ct);
            run.ChecksDuration = watch.Elapsed;

            if (run.Mode == RestoreMode.InPlace)
            {
                await SetPhaseAsync(run, RestorePhase.SafetyBackup);
                watch.Restart();
                (run.SafetyBackupId, safetyFile) = await TakeSafetyBackupAsync(run, actor, ct);
                run.SafetyBackupDuration = watch.Elapsed;
                await SaveAsync(run);
            }
            else
            {
                await SetPhaseAsync(run, RestorePhase.Creating);
                createdHere = await CreateDatabaseAsync(run, connection, ct);
            }

            run.RestoreStartedAt = time.GetUtcNow();
            await SetPhaseAsync(run, RestorePhase.Restoring);
            watch.Restart();
            var loaded = 0;
            var into = connection.Unpooled(run.DatabaseName);
            var result = await ArchiveRestore.RunAsync(pgTools, into, archive,
                run.Mode == RestoreMode.InPlace ? ArchiveRestoreStyle.InPlace : ArchiveRestoreStyle.NewDatabase,
                run.Jobs, options.CurrentValue.InPlaceSingleTransaction,
                _ => notifier.Publish(new RestoreProgress(run.Id, run.Status, RestorePhase.Restoring, Interlocked.Increment(ref loaded), archive.TableDataEntries, null)),
                ct);
            run.RestoreDuration = watch.Elapsed;
            if (!result.Succeeded)
            {
                throw new RestoreFailedException(await PgRestoreFailedAsync(run, connection, createdHere, safetyFile, result.ErrorSummary));
            }

            await SetPhaseAsync(run, RestorePhase.Counting);
            watch.Restart();
            IReadOnlyList<TableRowCount> counts;
            await using (var conn = new NpgsqlConnection(into.ConnectionString))
            {
                await conn.OpenAsync(ct);
                counts = await DatabaseInspector.CountRowsAsync(conn, ct);
            }

            run.CountDuration = watch.Elapsed;
            var comparison = TableCountComparison.Compare(archive.Manifest.Tables, counts);
            await SaveCountsAsync(run, comparison);
            run.CountsMatch = comparison.All(c => c.Matches);
            run.RowsRestored = counts.Sum(c => c.Rows);
            if (TableCountComparison.DescribeMismatches(comparison) is { } mismatch)
            {
                var why = run.Mode == RestoreMode.InPlace
                    ? $" If HelloJohn kept running during the restore it may have written since. The state before the restore is in the safety backup {safetyFile}."
                    : $" {run.DatabaseName} was kept for inspection; drop it when done.";
                throw new RestoreFailedException($"{archive.Manifest.FileName} was restored into {run.DatabaseName}, but the row counts differ from its manifest: {mismatch}.{why}");
            }

            await FinishAsync(run, actor, RestoreStatus.Succeeded, null, null);
            logger.LogInformation("Restored {File} into {Database} ({Mode}) in {Duration}: {Rows} rows, counts match",
                run.BackupFileName, run.DatabaseName, run.Mode, run.Duration, run.RowsRestored);
        }
        catch (Exception e)
        {
            var cancelled = e is OperationCanceledException && ct.IsCancellationRequested;
            var message = e switch
            {
                RestoreFailedException => e.Message,
                _ when cancelled => await CancelledAsync(run, connection, createdHere, safetyFile),
                _ => await UnexpectedFailureAsync(run, connection, createdHere, safetyFile, e),
            };
            await FinishAsync(run, actor, cancelled ? RestoreStatus.Cancelled : RestoreStatus.Failed, message, (e as ArchiveCheckStopException)?.Check);
            logger.LogWarning("Restore {RunId} of {File} into {Database} {Outcome}: {Message}", run.Id, run.BackupFileName, run.DatabaseName,
                cancelled ? "was cancelled" : "failed", message);
            throw new RestoreFailedException(message, e) { RunId = run.Id };
        }
    }

    /// <summary>The request was authorized when it was made; the job acts for that person with the role the mode
    /// required, so the safety backup is recorded as theirs.</summary>
    private static Actor ActorOf(RestoreRun run) =>
        new(run.RequestedByUserId, run.RequestedBy ?? "system", [run.Mode == RestoreMode.InPlace ? ConsoleRoles.Admin : ConsoleRoles.Operator]);

    private async Task<CheckedArchive> CheckArchiveAsync(RestoreRun run, CancellationToken ct)
    {
        try
        {
            return await checker.CheckAsync(run.BackupId ?? Guid.Empty, ct);
        }
        catch (ArchiveCheckFailedException e)
        {
            var untouched = run.Mode == RestoreMode.InPlace ? $"The live database {run.DatabaseName} was not touched." : $"No database was created or changed ({run.DatabaseName} was not touched).";
            throw new ArchiveCheckStopException(e.Check,
                $"Restore stopped before touching any database. {e.Message} {untouched} Pick another backup, or copy this one again from another store.", e);
        }
    }

    private async Task<(Guid Id, string FileName)> TakeSafetyBackupAsync(RestoreRun run, Actor actor, CancellationToken ct)
    {
        Guid id;
        try
        {
            id = await backups.RunNowAsync(actor, run.TargetId, BackupTrigger.SafetyBeforeRestore, ct);
        }
        catch (BackupFailedException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        catch (BackupFailedException e)
        {
            throw new RestoreFailedException($"Restore in place stopped: the safety backup of {run.DatabaseName} failed ({e.Message}). The live database was not touched. Fix the backup problem first, then restore again.", e);
        }

        var details = await backups.GetAsync(id, CancellationToken.None);
        return (id, details?.Backup.FileName ?? id.ToString());
    }

    /// <summary>Creates the target database, replacing it when asked. True when this run created it.</summary>
    private async Task<bool> CreateDatabaseAsync(RestoreRun run, NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connection.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        if (await ServerDatabases.ExistsAsync(conn, run.DatabaseName, ct))
        {
            if (!run.ReplaceExisting)
            {
                throw new RestoreFailedException($"A database named {run.DatabaseName} was created after this restore was requested. It was left alone and nothing was restored; request again and confirm replacing it, or choose another name.");
            }

            if (await ProtectedReasonAsync(connection, run.DatabaseName, ct) is { } reason)
            {
                throw new RestoreFailedException($"{run.DatabaseName} cannot be replaced: {reason} Nothing was dropped or restored.");
            }

            logger.LogWarning("Dropping {Database} on {Server} to replace it, as {Who} confirmed", run.DatabaseName, run.Server, run.RequestedBy);
            await ServerDatabases.DropAsync(conn, run.DatabaseName, force: true, ct);
        }

        await ServerDatabases.CreateAsync(conn, run.DatabaseName, ct);
        return true;
    }

    private async Task<string> PgRestoreFailedAsync(RestoreRun run, NpgsqlConnectionStringBuilder connection, bool createdHere, string? safetyFile, string error)
    {
        if (run.Mode == RestoreMode.InPlace)
        {
            return options.CurrentValue.InPlaceSingleTransaction
                ? $"pg_restore failed: {error}. It ran in one transaction, so {run.DatabaseName} was rolled back to its state before the restore. The safety backup {safetyFile} holds that state too."
                : $"pg_restore failed: {error}. {run.DatabaseName} may be partly restored: restore the safety backup {safetyFile} to return to the state before.";
        }

        var dropped = createdHere && await TryDropAsync(connection, run.DatabaseName);
        var replaced = run.ReplaceExisting ? " The database it replaced had already been dropped." : "";
        return dropped
            ? $"pg_restore failed: {error}. The half-restored {run.DatabaseName} was dropped.{replaced}"
            : $"pg_restore failed: {error}. {run.DatabaseName} could not be dropped and is half-restored: drop it by hand.{replaced}";
    }

    private async Task<string> CancelledAsync(RestoreRun run, NpgsqlConnectionStringBuilder? connection, bool createdHere, string? safetyFile)
    {
        if (run.Mode == RestoreMode.InPlace)
        {
            return run.RestoreStartedAt is null
                ? $"The restore was cancelled before it touched {run.DatabaseName}."
                : options.CurrentValue.InPlaceSingleTransaction
                    ? $"The restore was cancelled; its transaction was rolled back, so {run.DatabaseName} is as it was. The safety backup {safetyFile} holds that state too."
                    : $"The restore was cancelled while it wrote to {run.DatabaseName}, which may be partly restored: restore the safety backup {safetyFile}.";
        }

        if (createdHere && connection is not null)
        {
            return await TryDropAsync(connection, run.DatabaseName)
                ? $"The restore was cancelled; the half-restored {run.DatabaseName} was dropped."
                : $"The restore was cancelled; {run.DatabaseName} could not be dropped and is half-restored: drop it by hand.";
        }

        return $"The restore was cancelled before it touched {run.DatabaseName}.";
    }

    private async Task<string> UnexpectedFailureAsync(RestoreRun run, NpgsqlConnectionStringBuilder? connection, bool createdHere, string? safetyFile, Exception e)
    {
        if (e is ArchiveCheckStopException)
        {
            return e.Message;
        }

        var what = e switch
        {
            PostgresException pg => $"PostgreSQL refused: {pg.MessageText} ({pg.SqlState})",
            NpgsqlException n => $"the database server could not be reached ({n.Message})",
            _ => e.Message,
        };
        var after = createdHere && connection is not null && await TryDropAsync(connection, run.DatabaseName)
            ? $" The half-restored {run.DatabaseName} was dropped."
            : run.RestoreStartedAt is null ? $" {run.DatabaseName} was not touched." : "";
        var safety = safetyFile is not null ? $" The safety backup {safetyFile} holds the state before the restore." : "";
        return $"The restore failed: {what}.{after}{safety}";
    }

    private async Task<bool> TryDropAsync(NpgsqlConnectionStringBuilder connection, string database)
    {
        // Cleanup runs even when the restore was cancelled, with a bound of its own.
        using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            if (await ServerDatabases.DropOwnAsync(connection, database, time, cleanup.Token) is not { } reason)
            {
                return true;
            }

            logger.LogWarning("Could not drop the half-restored {Database}: {Reason}", database, reason);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            logger.LogWarning("Could not drop the half-restored {Database}: {Message}", database, e.Message);
        }

        return false;
    }

    private async Task FailStaleRunsAsync(RestoreRun current)
    {
        // This run holds the lock, so any other run still marked running for the same database lost its process.
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var now = time.GetUtcNow();
        await db.Set<RestoreRun>()
            .Where(r => r.TargetId == current.TargetId && r.DatabaseName == current.DatabaseName && r.Status == RestoreStatus.Running && r.Id != current.Id)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RestoreStatus.Failed)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, "The console process that ran this restore stopped before it finished. Check the database, then restore again."), CancellationToken.None);
    }

    private async Task SetPhaseAsync(RestoreRun run, RestorePhase phase)
    {
        run.Phase = phase;
        await SaveAsync(run);
        notifier.Publish(new RestoreProgress(run.Id, run.Status, phase, 0, 0, null));
    }

    private async Task SaveAsync(RestoreRun run)
    {
        // The run's record must say what happened even when the run itself was cancelled.
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Entry(run).State = EntityState.Modified;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private async Task SaveCountsAsync(RestoreRun run, IReadOnlyList<TableCountResult> comparison)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Set<RestoreTableCount>().AddRange(comparison.Select(c => new RestoreTableCount
        {
            RunId = run.Id,
            Schema = c.Schema,
            Table = c.Table,
            Expected = c.Expected,
            Actual = c.Actual,
        }));
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private async Task FinishAsync(RestoreRun run, Actor actor, RestoreStatus status, string? error, ArchiveCheck? failedCheck)
    {
        run.Status = status;
        run.Phase = RestorePhase.Done;
        run.FinishedAt = time.GetUtcNow();
        run.StartedAt ??= run.FinishedAt;
        run.Error = error is { Length: > 4000 } ? error[..4000] : error;
        run.FailedCheck = failedCheck?.ToString();
        await SaveAsync(run);
        await audit.RecordAsync(actor, AuditActions.RestoreFinished, $"{run.Mode} → {run.DatabaseName}",
            status == RestoreStatus.Succeeded ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            status == RestoreStatus.Succeeded
                ? $"from {run.BackupFileName} in {run.Duration?.TotalSeconds:0.0} s, {run.RowsRestored:N0} rows, counts match"
                : $"{status.ToString().ToLowerInvariant()}: {run.Error}", CancellationToken.None);
        notifier.Publish(new RestoreProgress(run.Id, status, RestorePhase.Done, 0, 0, error));
    }

    private async Task<Guid> TargetOfAsync(Guid backupId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Backups.Where(b => b.Id == backupId).Select(b => (Guid?)b.TargetId).FirstOrDefaultAsync(ct)
            ?? throw new KeyNotFoundException($"No backup {backupId}.");
    }

    public async Task<RestoreRunPage> QueryAsync(int page, int pageSize, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<RestoreRun>().AsNoTracking();
        var total = await q.CountAsync(ct);
        var items = await q.OrderByDescending(r => r.CreatedAt).Skip(page * pageSize).Take(pageSize)
            .Select(r => new RestoreRunItem(r.Id, r.BackupId, r.BackupFileName, r.Target!.Name, r.Mode, r.DatabaseName, r.Server, r.ReplaceExisting,
                r.Status, r.Phase, r.RequestedBy, r.CreatedAt, r.StartedAt, r.FinishedAt, r.RestoreStartedAt, r.ChecksDuration, r.SafetyBackupDuration,
                r.RestoreDuration, r.CountDuration, r.SafetyBackupId, r.Jobs, r.CountsMatch, r.RowsRestored, r.FailedCheck, r.Error))
            .ToListAsync(ct);
        return new RestoreRunPage(items, total);
    }

    public async Task<RestoreRunDetails?> GetAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var r = await db.Set<RestoreRun>().AsNoTracking().Include(x => x.Target).Include(x => x.Tables).AsSplitQuery().FirstOrDefaultAsync(x => x.Id == runId, ct);
        if (r is null)
        {
            return null;
        }

        var item = new RestoreRunItem(r.Id, r.BackupId, r.BackupFileName, r.Target!.Name, r.Mode, r.DatabaseName, r.Server, r.ReplaceExisting,
            r.Status, r.Phase, r.RequestedBy, r.CreatedAt, r.StartedAt, r.FinishedAt, r.RestoreStartedAt, r.ChecksDuration, r.SafetyBackupDuration,
            r.RestoreDuration, r.CountDuration, r.SafetyBackupId, r.Jobs, r.CountsMatch, r.RowsRestored, r.FailedCheck, r.Error);
        var safetyFile = r.SafetyBackupId is { } sid ? await db.Backups.Where(b => b.Id == sid).Select(b => b.FileName).FirstOrDefaultAsync(ct) : null;
        var tables = TableCountComparison.Compare(
            r.Tables.Where(t => t.Expected is not null).Select(t => new ManifestTableCount(t.Schema, t.Table, t.Expected!.Value)),
            r.Tables.Where(t => t.Actual is not null).Select(t => new TableRowCount(t.Schema, t.Table, t.Actual!.Value)));
        return new RestoreRunDetails(item, tables, safetyFile);
    }

    /// <summary>Backups that can be restored, newest first, for the dialog's picker.</summary>
    public async Task<IReadOnlyList<RestorableBackup>> ListRestorableAsync(int take, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Backups.AsNoTracking()
            .Where(b => b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored)
            .OrderByDescending(b => b.CreatedAt).Take(take)
            .Select(b => new { b.Id, b.FileName, b.CreatedAt, b.SizeBytes, b.Trigger, b.TargetId, TargetName = b.Target!.Name })
            .ToListAsync(ct);
        var liveNames = new Dictionary<Guid, string>();
        foreach (var targetId in rows.Select(r => r.TargetId).Distinct())
        {
            liveNames[targetId] = (await targets.GetConnectionAsync(targetId, ct)).Database ?? "";
        }

        return [.. rows.Select(r => new RestorableBackup(r.Id, r.FileName, r.CreatedAt, r.SizeBytes, r.Trigger, r.TargetName, liveNames[r.TargetId]))];
    }
}

/// <summary>A finished backup offered for restore, with the name of its target's live database (for the typed confirmation).</summary>
public sealed record RestorableBackup(Guid Id, string FileName, DateTimeOffset CreatedAt, long? SizeBytes, BackupTrigger Trigger, string TargetName, string LiveDatabase);

/// <summary>A check failed before any database was touched; the message already says so.</summary>
internal sealed class ArchiveCheckStopException(ArchiveCheck check, string message, Exception inner) : Exception(message, inner)
{
    public ArchiveCheck Check { get; } = check;
}
