using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Verification;

/// <summary>A verification's account of its run, for whoever is told it ended.</summary>
public sealed record VerificationRunSummary(string Text, Guid? BackupId, string BackupFileName, long? RowsCounted, bool? DatabaseDropped) : RunSummary(Text);

/// <summary>Executes one queued verification as a run: tidies leftovers of crashed runs on the server, restores the
/// backup into a throw-away database with the <see cref="RestoreEngine"/>, compares every table's count with the
/// manifest and always drops the database again.</summary>
public sealed class VerificationRunner(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    RestoreEngine engine,
    VerificationLeftovers leftovers,
    RunLifecycle lifecycle,
    IOptionsMonitor<VerificationOptions> options,
    TimeProvider time,
    ILogger<VerificationRunner> logger)
{
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        var claim = await lifecycle.ClaimAsync(runId, nameof(RestorePhase.Checking), ct);
        if (claim is null)
        {
            logger.LogInformation("Verification {RunId} is not queued (cancelled first, or already run); nothing to do", runId);
            return;
        }

        await using (claim)
        {
            VerificationRun run;
            await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            {
                run = await db.Set<VerificationRun>().AsNoTracking().SingleAsync(r => r.Id == runId, CancellationToken.None);
            }

            await RunClaimedAsync(claim, run);
        }
    }

    private async Task RunClaimedAsync(RunClaim claim, VerificationRun run)
    {
        var ct = claim.Token;
        NpgsqlConnectionStringBuilder? server = null;
        await using var session = new RestoreSession { Database = "" };
        string? failure = null;
        RunFailureKind? kind = null;
        var status = RunStatus.Failed;
        try
        {
            server = await ServerAsync(claim.Run.TargetId!.Value, ct);
            run.Server = $"{server.Host}:{server.Port}";
            run.Leftovers = await leftovers.SweepAsync(server, run.Id, ct);
            await SaveAsync(run, session);

            var now = time.GetUtcNow();
            await engine.RunAsync(new RestoreSpec(run.BackupId ?? Guid.Empty, server, "", ArchiveRestoreStyle.ThrowAway, run.Jobs)
            {
                Creation = DatabaseCreation.FreshName,
                NameForAttempt = attempt => DatabaseNames.ForVerification(now, attempt),
            }, session, new RestoreEvents
            {
                Phase = async phase =>
                {
                    await SaveAsync(run, session);
                    await lifecycle.SetPhaseAsync(claim, phase.ToString());
                },
                // The name is saved before the database exists, so a crash right after leaves a record of it.
                Naming = async name =>
                {
                    run.DatabaseName = name;
                    await SaveAsync(run, session);
                },
                TableLoaded = (loaded, total, _) => lifecycle.ReportProgress(claim, loaded, total),
            }, ct);
            run.RowsCounted = session.Rows;
            await RunTableCounts.SaveAsync<VerificationTableCount>(dbFactory, run.Id, session.Comparison);
            if (session.Mismatch is { } mismatch)
            {
                kind = RunFailureKind.CountsDiffer;
                throw new VerificationFailedException(run.Id, $"{run.BackupFileName} restored, but its row counts differ from the manifest: {mismatch}. Do not rely on this backup; take a new one.");
            }

            status = RunStatus.Succeeded;
        }
        catch (Exception e)
        {
            var cancelled = e is OperationCanceledException && claim.StopRequested;
            status = cancelled ? RunStatus.Cancelled : RunStatus.Failed;
            (failure, kind) = e switch
            {
                VerificationFailedException => (e.Message, kind),
                _ when cancelled => ("The verification was cancelled.", null),
                ArchiveCheckFailedException check => ($"Verification stopped before touching any database. {check.Message} No database was created. Pick another backup, or copy this one again from another store.",
                    RunFailureKind.ArchiveCheck),
                PgRestoreFailedException pg => ($"pg_restore could not restore {run.BackupFileName}: {pg.Error}. This backup may not be restorable; take a new one and verify it.", RunFailureKind.Tool),
                PostgresException pg => ($"PostgreSQL refused the verification: {pg.MessageText} ({pg.SqlState}).", RunFailureKind.TargetRefused),
                NpgsqlException n => ($"The verification server could not be reached: {n.Message}.", RunFailureKind.TargetUnreachable),
                _ => ($"The verification failed: {e.Message}", RunFailureKind.Unexpected),
            };
            run.FailedCheck = (e as ArchiveCheckFailedException)?.Check.ToString();
        }
        finally
        {
            if (session.CreatedDatabase && server is not null)
            {
                await lifecycle.SetPhaseAsync(claim, nameof(RestorePhase.CleaningUp));
                var notDropped = await ServerDatabases.DropCreatedAsync(server, session.Database, time);
                run.DatabaseDropped = notDropped is null;
                if (notDropped is not null)
                {
                    logger.LogWarning("Could not drop the verification database {Database}: {Reason}", session.Database, notDropped);
                    failure = (failure is null ? "" : failure + " ") + $"The throw-away database {session.Database} could not be dropped ({notDropped}); the next verification drops it.";
                    (status, kind) = status == RunStatus.Succeeded ? (RunStatus.Failed, RunFailureKind.Unexpected) : (status, kind);
                }
            }

            await SaveAsync(run, session);
            var end = status == RunStatus.Succeeded
                ? RunEnd.Succeeded($"passed in {Seconds(claim):0.0} s: {run.RowsCounted:N0} rows, counts equal the manifest")
                : new RunEnd(status, failure, kind) { AuditDetail = $"{status.ToString().ToLowerInvariant()}: {failure}" };
            await lifecycle.FinishAsync(claim, end with
            {
                Summary = new VerificationRunSummary(status == RunStatus.Succeeded ? $"{run.BackupFileName} restores: {run.RowsCounted:N0} rows, counts equal the manifest" : failure ?? "",
                    run.BackupId, run.BackupFileName, run.RowsCounted, run.DatabaseDropped),
            });
            logger.LogInformation("Verification of {File} {Status}", run.BackupFileName, status);
        }

        if (status != RunStatus.Succeeded)
        {
            throw new VerificationFailedException(run.Id, failure ?? "The verification did not pass.");
        }
    }

    private double Seconds(RunClaim claim) => (time.GetUtcNow() - claim.Run.StartedAt!.Value).TotalSeconds;

    private async Task<NpgsqlConnectionStringBuilder> ServerAsync(Guid targetId, CancellationToken ct) =>
        string.IsNullOrWhiteSpace(options.CurrentValue.ScratchServer)
            ? await targets.GetConnectionAsync(targetId, ct)
            : PgConnection.Parse(options.CurrentValue.ScratchServer);

    /// <summary>What the run learned so far; its record says what happened even when it was cancelled.</summary>
    private async Task SaveAsync(VerificationRun run, RestoreSession session)
    {
        run.ChecksDuration = session.ChecksDuration;
        run.RestoreDuration = session.RestoreDuration;
        run.CountDuration = session.CountDuration;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Entry(run).State = EntityState.Modified;
        await db.SaveChangesAsync(CancellationToken.None);
    }

}
