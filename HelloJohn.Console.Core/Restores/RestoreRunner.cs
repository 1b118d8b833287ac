using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Executes one queued restore as a run: takes the database's lock (one restore per database across every
/// instance), claims the run, takes the safety backup first when in place, drives the <see cref="RestoreEngine"/>, and
/// says in its end what happened to the database.</summary>
public sealed class RestoreRunner(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RestoreServers servers,
    BackupService backups,
    RestoreRequests requests,
    RestoreEngine engine,
    ConsoleLocks locks,
    RunLifecycle lifecycle,
    IOptionsMonitor<RestoreOptions> options,
    TimeProvider time,
    ILogger<RestoreRunner> logger)
{
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        RestoreRun restore;
        RunRecord queued;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            restore = await db.Set<RestoreRun>().AsNoTracking().Include(r => r.Run).FirstOrDefaultAsync(r => r.Id == runId, ct)
                ?? throw new KeyNotFoundException($"No restore run {runId}.");
            queued = restore.Run!;
        }

        if (queued.Status != RunStatus.Queued)
        {
            logger.LogInformation("Restore {RunId} is {Status}, not queued; nothing to do", runId, queued.Status);
            return;
        }

        await using var held = await locks.TryAcquireAsync(ConsoleLocks.ForRestore(queued.TargetId!.Value, restore.DatabaseName), ct);
        if (held is null)
        {
            var busy = $"Another restore into {restore.DatabaseName} is running (on this or another console instance). This one did not start; nothing was touched.";
            await lifecycle.EndQueuedAsync(runId, new RunEnd(RunStatus.Failed, busy, RunFailureKind.Busy) { AuditDetail = $"failed: {busy}" });
            throw new RestoreFailedException(busy) { RunId = runId };
        }

        var claim = await lifecycle.ClaimAsync(runId, nameof(RestorePhase.Checking), ct);
        if (claim is null)
        {
            logger.LogInformation("Restore {RunId} was cancelled before it started; nothing to do", runId);
            return;
        }

        await using (claim)
        {
            await RunClaimedAsync(claim, restore);
        }
    }

    private async Task RunClaimedAsync(RunClaim claim, RestoreRun run)
    {
        var ct = claim.Token;
        // The request was authorized when it was made; the job acts for that person with the role the mode required,
        // so the safety backup is recorded as theirs.
        var actor = new Actor(claim.Run.RequestedByUserId, claim.Run.RequestedBy ?? "system", [run.Mode == RestoreMode.InPlace ? ConsoleRoles.Admin : ConsoleRoles.Operator]);
        await using var session = new RestoreSession { Database = run.DatabaseName };
        NpgsqlConnectionStringBuilder? connection = null;
        string? safetyFile = null;
        try
        {
            connection = await servers.ForRunAsync(run, claim.Run.TargetId!.Value, ct);
            var spec = new RestoreSpec(run.BackupId ?? Guid.Empty, connection, run.DatabaseName,
                run.Mode == RestoreMode.InPlace ? ArchiveRestoreStyle.InPlace : ArchiveRestoreStyle.NewDatabase, run.Jobs)
            {
                Creation = run.Mode == RestoreMode.InPlace ? DatabaseCreation.Existing : DatabaseCreation.New,
                ReplaceExisting = run.ReplaceExisting,
                SingleTransaction = options.CurrentValue.InPlaceSingleTransaction,
                Protected = (name, c) => requests.ProtectedReasonAsync(connection, name, c),
            };
            await engine.RunAsync(spec, session, new RestoreEvents
            {
                Phase = async phase =>
                {
                    await SaveAsync(run, session);
                    await lifecycle.SetPhaseAsync(claim, phase.ToString());
                },
                TableLoaded = (loaded, total, _) => lifecycle.ReportProgress(claim, loaded, total),
                BeforeWriting = async (_, c) =>
                {
                    if (run.Mode == RestoreMode.InPlace)
                    {
                        await lifecycle.SetPhaseAsync(claim, nameof(RestorePhase.SafetyBackup));
                        var watch = time.GetTimestamp();
                        (run.SafetyBackupId, safetyFile) = await TakeSafetyBackupAsync(run, claim.Run.TargetId!.Value, actor, c);
                        run.SafetyBackupDuration = time.GetElapsedTime(watch);
                    }
                },
            }, ct);
            await SaveAsync(run, session);
            await RunTableCounts.SaveAsync<RestoreTableCount>(dbFactory, run.Id, session.Comparison);
            run.CountsMatch = session.Comparison.All(c => c.Matches);
            if (session.Mismatch is { } mismatch)
            {
                var why = run.Mode == RestoreMode.InPlace
                    ? $" If HelloJohn kept running during the restore it may have written since. The state before the restore is in the safety backup {safetyFile}."
                    : $" {run.DatabaseName} was kept for inspection; drop it when done.";
                throw new RestoreStopException($"{session.Archive!.Manifest.FileName} was restored into {run.DatabaseName}, but the row counts differ from its manifest: {mismatch}.{why}",
                    RunFailureKind.CountsDiffer);
            }

            await SaveAsync(run, session);
            var seconds = (time.GetUtcNow() - claim.Run.StartedAt!.Value).TotalSeconds;
            await lifecycle.FinishAsync(claim, RunEnd.Succeeded($"from {run.BackupFileName} in {seconds:0.0} s, {run.RowsRestored:N0} rows, counts match",
                new RestoreRunSummary($"{run.BackupFileName} restored into {run.DatabaseName}: {run.RowsRestored:N0} rows, counts match", run.BackupFileName, run.DatabaseName, run.Mode, run.RowsRestored)));
            logger.LogInformation("Restored {File} into {Database} ({Mode}): {Rows} rows, counts match", run.BackupFileName, run.DatabaseName, run.Mode, run.RowsRestored);
        }
        catch (Exception e)
        {
            var cancelled = e is OperationCanceledException && claim.StopRequested;
            var (status, kind) = cancelled ? (RunStatus.Cancelled, (RunFailureKind?)null) : (RunStatus.Failed, FailureKindOf(e));
            var message = e switch
            {
                RestoreStopException or RestoreFailedException or RestoreRefusedException => e.Message,
                ArchiveCheckFailedException check => $"Restore stopped before touching any database. {check.Message} {Untouched(run)} Pick another backup, or copy this one again from another store.",
                PgRestoreFailedException pg => await PgRestoreFailedAsync(run, session, connection, safetyFile, pg.Error),
                _ when cancelled => await CancelledAsync(run, session, connection, safetyFile),
                _ => await UnexpectedFailureAsync(run, session, connection, safetyFile, e),
            };
            run.FailedCheck = (e as ArchiveCheckFailedException)?.Check.ToString();
            await SaveAsync(run, session);
            await lifecycle.FinishAsync(claim, new RunEnd(status, message, kind) { AuditDetail = $"{status.ToString().ToLowerInvariant()}: {message}" });
            logger.LogWarning("Restore {RunId} of {File} into {Database} {Outcome}: {Message}", run.Id, run.BackupFileName, run.DatabaseName,
                cancelled ? "was cancelled" : "failed", message);
            throw new RestoreFailedException(message, e) { RunId = run.Id };
        }
        finally
        {
            // A server named in the request is needed no longer: its run ended and cleaned up after itself.
            await servers.ForgetAsync(run.Id);
        }
    }

    private static RunFailureKind FailureKindOf(Exception e) => e switch
    {
        RestoreStopException stop => stop.Kind,
        ArchiveCheckFailedException => RunFailureKind.ArchiveCheck,
        PgRestoreFailedException => RunFailureKind.Tool,
        PostgresException => RunFailureKind.TargetRefused,
        NpgsqlException => RunFailureKind.TargetUnreachable,
        _ => RunFailureKind.Unexpected,
    };

    private static string Untouched(RestoreRun run) => run.Mode == RestoreMode.InPlace
        ? $"The live database {run.DatabaseName} was not touched."
        : $"No database was created or changed ({run.DatabaseName} was not touched).";

    private async Task<(Guid Id, string FileName)> TakeSafetyBackupAsync(RestoreRun run, Guid targetId, Actor actor, CancellationToken ct)
    {
        Guid id;
        try
        {
            id = await backups.RunNowAsync(actor, targetId, BackupTrigger.SafetyBeforeRestore, ct, run.DatabaseName);
        }
        catch (BackupFailedException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        catch (BackupFailedException e)
        {
            throw new RestoreStopException($"Restore in place stopped: the safety backup of {run.DatabaseName} failed ({e.Message}). The live database was not touched. Fix the backup problem first, then restore again.",
                e.FailureKind, e);
        }

        var details = await backups.GetAsync(id, CancellationToken.None);
        return (id, details?.Backup.FileName ?? id.ToString());
    }

    private async Task<string> PgRestoreFailedAsync(RestoreRun run, RestoreSession session, NpgsqlConnectionStringBuilder? connection, string? safetyFile, string error)
    {
        if (run.Mode == RestoreMode.InPlace)
        {
            return options.CurrentValue.InPlaceSingleTransaction
                ? $"pg_restore failed: {error}. It ran in one transaction, so {run.DatabaseName} was rolled back to its state before the restore. The safety backup {safetyFile} holds that state too."
                : $"pg_restore failed: {error}. {run.DatabaseName} may be partly restored: restore the safety backup {safetyFile} to return to the state before.";
        }

        var dropped = session.CreatedDatabase && connection is not null && await DropAsync(connection, run.DatabaseName);
        var replaced = run.ReplaceExisting ? " The database it replaced had already been dropped." : "";
        return dropped
            ? $"pg_restore failed: {error}. The half-restored {run.DatabaseName} was dropped.{replaced}"
            : $"pg_restore failed: {error}. {run.DatabaseName} could not be dropped and is half-restored: drop it by hand.{replaced}";
    }

    private async Task<string> CancelledAsync(RestoreRun run, RestoreSession session, NpgsqlConnectionStringBuilder? connection, string? safetyFile)
    {
        if (run.Mode == RestoreMode.InPlace)
        {
            return session.WritingStartedAt is null
                ? $"The restore was cancelled before it touched {run.DatabaseName}."
                : options.CurrentValue.InPlaceSingleTransaction
                    ? $"The restore was cancelled; its transaction was rolled back, so {run.DatabaseName} is as it was. The safety backup {safetyFile} holds that state too."
                    : $"The restore was cancelled while it wrote to {run.DatabaseName}, which may be partly restored: restore the safety backup {safetyFile}.";
        }

        if (session.CreatedDatabase && connection is not null)
        {
            return await DropAsync(connection, run.DatabaseName)
                ? $"The restore was cancelled; the half-restored {run.DatabaseName} was dropped."
                : $"The restore was cancelled; {run.DatabaseName} could not be dropped and is half-restored: drop it by hand.";
        }

        return $"The restore was cancelled before it touched {run.DatabaseName}.";
    }

    private async Task<string> UnexpectedFailureAsync(RestoreRun run, RestoreSession session, NpgsqlConnectionStringBuilder? connection, string? safetyFile, Exception e)
    {
        var what = e switch
        {
            PostgresException pg => $"PostgreSQL refused: {pg.MessageText} ({pg.SqlState})",
            NpgsqlException n => $"the database server could not be reached ({n.Message})",
            _ => e.Message,
        };
        var after = session.CreatedDatabase && connection is not null && await DropAsync(connection, run.DatabaseName)
            ? $" The half-restored {run.DatabaseName} was dropped."
            : session.WritingStartedAt is null ? $" {run.DatabaseName} was not touched." : "";
        var safety = safetyFile is not null ? $" The safety backup {safetyFile} holds the state before the restore." : "";
        return $"The restore failed: {what}.{after}{safety}";
    }

    private async Task<bool> DropAsync(NpgsqlConnectionStringBuilder connection, string database)
    {
        if (await ServerDatabases.DropCreatedAsync(connection, database, time) is not { } reason)
        {
            return true;
        }

        logger.LogWarning("Could not drop the half-restored {Database}: {Reason}", database, reason);
        return false;
    }

    /// <summary>What the run learned so far; the run's record says what happened even when it was cancelled.</summary>
    private async Task SaveAsync(RestoreRun run, RestoreSession session)
    {
        run.DatabaseCreated = session.CreatedDatabase;
        run.RestoreStartedAt = session.WritingStartedAt;
        run.ChecksDuration = session.ChecksDuration;
        run.RestoreDuration = session.RestoreDuration;
        run.CountDuration = session.CountDuration;
        run.RowsRestored = session.Rows;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Entry(run).State = EntityState.Modified;
        await db.SaveChangesAsync(CancellationToken.None);
    }

}

/// <summary>A restore's account of its run, for whoever is told it ended.</summary>
public sealed record RestoreRunSummary(string Text, string BackupFileName, string DatabaseName, RestoreMode Mode, long? Rows) : RunSummary(Text);

/// <summary>The restore stopped for a reason its message already gives.</summary>
internal sealed class RestoreStopException(string message, RunFailureKind kind, Exception? inner = null) : Exception(message, inner)
{
    public RunFailureKind Kind { get; } = kind;
}
