using System.Diagnostics;
using Hangfire;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Proves backups restore: each run restores one backup into <c>hellojohn_verify_&lt;unix time&gt;</c>,
/// counts every table it holds, compares with the manifest and always drops the database again.</summary>
public sealed class VerificationService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    BackupArchiveChecker checker,
    ConsoleLocks locks,
    IPgToolRunner pgTools,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    VerificationProgressNotifier notifier,
    IOptionsMonitor<VerificationOptions> options,
    TimeProvider time,
    ILogger<VerificationService> logger)
{
    private const int MaxNameAttempts = 5;

    /// <summary>Runs executing in this process, so Cancel can stop them at once.</summary>
    private static readonly Restores.LocalRuns RunningHere = new();

    /// <summary>Queues a verification of <paramref name="backupId"/> as a background job.</summary>
    public async Task<Guid> RequestAsync(Actor actor, Guid backupId, VerificationTrigger trigger, CancellationToken ct)
    {
        var runId = await AcceptAsync(actor, backupId, trigger, ct);
        var jobId = jobs.Enqueue<VerificationJob>(j => j.RunAsync(runId, CancellationToken.None));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<VerificationRun>().Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, jobId), ct);
        return runId;
    }

    /// <summary>Verifies in the caller and returns the finished run, passed or not.</summary>
    public async Task<VerificationRunDetails> VerifyAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        var runId = await AcceptAsync(actor, backupId, VerificationTrigger.Manual, ct);
        try
        {
            await RunAsync(runId, ct);
        }
        catch (VerificationFailedException)
        {
            // The run records why; the caller reads it from the details.
        }

        return (await GetAsync(runId, CancellationToken.None))!;
    }

    /// <summary>Verifies the newest finished backup of a target: the weekly recurring job.</summary>
    public async Task VerifyNewestAsync(Guid targetId, CancellationToken ct)
    {
        Guid? newest;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            newest = await db.Backups.Where(b => b.TargetId == targetId && b.Status == BackupStatus.Succeeded)
                .OrderByDescending(b => b.CreatedAt).Select(b => (Guid?)b.Id).FirstOrDefaultAsync(ct);
        }

        if (newest is null)
        {
            var target = await targets.GetAsync(targetId, ct);
            throw new InvalidOperationException($"The weekly verification of {target.Name} found no finished backup to verify. Take a backup first.");
        }

        var runId = await AcceptAsync(Actor.System, newest.Value, VerificationTrigger.Scheduled, ct);
        await RunAsync(runId, ct);
    }

    private async Task<Guid> AcceptAsync(Actor actor, Guid backupId, VerificationTrigger trigger, CancellationToken ct)
    {
        if (!actor.Has(ConsolePermission.VerifyBackup))
        {
            await audit.RecordAsync(actor, AuditActions.VerificationRequested, backupId.ToString(), AuditOutcome.Denied, ct: ct);
            actor.Demand(ConsolePermission.VerifyBackup);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var backup = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId, ct);
        if (backup is null || backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            var why = backup is null
                ? $"There is no backup {backupId} in the catalog."
                : $"{backup.FileName} is {backup.Status.ToString().ToLowerInvariant()}; only a finished backup can be verified.";
            await audit.RecordAsync(actor, AuditActions.VerificationRequested, backup?.FileName ?? backupId.ToString(), AuditOutcome.Failed, why, ct);
            throw new InvalidOperationException(why + " Nothing was started.");
        }

        var run = new VerificationRun
        {
            Id = Guid.NewGuid(),
            BackupId = backup.Id,
            BackupFileName = backup.FileName,
            TargetId = backup.TargetId,
            Status = VerificationStatus.Queued,
            Trigger = trigger,
            Phase = RestorePhase.Queued,
            RequestedBy = actor.Name,
            RequestedByUserId = actor.UserId,
            CreatedAt = time.GetUtcNow(),
            Jobs = options.CurrentValue.EffectiveJobs,
        };
        db.Add(run);
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(actor, AuditActions.VerificationRequested, backup.FileName, AuditOutcome.Succeeded, $"trigger {trigger}", ct);
        notifier.Publish(new VerificationProgress(run.Id, run.Status, run.Phase, 0, 0));
        return run.Id;
    }

    /// <summary>Runs a queued verification. Re-entrant: a run that is no longer queued is left alone. Throws
    /// <see cref="VerificationFailedException"/> when it did not pass.</summary>
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        await RunningHere.RunAsync(runId, ct, stop => RunRegisteredAsync(runId, stop));
    }

    /// <summary>Stops a queued or running verification. A running one stops pg_restore, drops its throw-away database
    /// and ends as cancelled; a queued one ends before it starts. Whoever may verify may cancel.</summary>
    public async Task CancelAsync(Actor actor, Guid runId, CancellationToken ct)
    {
        if (!actor.Has(ConsolePermission.VerifyBackup))
        {
            await audit.RecordAsync(actor, AuditActions.VerificationCancelled, runId.ToString(), AuditOutcome.Denied, "Nothing was cancelled.", ct);
            actor.Demand(ConsolePermission.VerifyBackup);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Set<VerificationRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new KeyNotFoundException($"There is no verification run {runId}. Nothing was cancelled.");
        if (run.Status is not (VerificationStatus.Queued or VerificationStatus.Running))
        {
            throw new InvalidOperationException(
                $"The verification of {run.BackupFileName} has already {run.Status.ToString().ToLowerInvariant()}; only a queued or running one can be cancelled. Nothing was changed.");
        }

        var here = await RunningHere.TryCancelAsync(runId);

        var endedQueued = await db.Set<VerificationRun>()
            .Where(r => r.Id == runId && r.Status == VerificationStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, VerificationStatus.Cancelled)
                .SetProperty(r => r.Phase, RestorePhase.Done)
                .SetProperty(r => r.FinishedAt, time.GetUtcNow())
                .SetProperty(r => r.Error, $"Cancelled by {actor.Name} before it started. No database was created."), ct);
        if (run.JobId is not null && !here)
        {
            // Queued, or running on another console instance: deleting the job cancels its token there.
            jobs.Delete(run.JobId);
        }

        if (endedQueued == 1)
        {
            notifier.Publish(new VerificationProgress(runId, VerificationStatus.Cancelled, RestorePhase.Done, 0, 0));
        }

        var detail = endedQueued == 1 ? "Cancelled before it started; no database was created."
            : here ? "Stopping: pg_restore is stopped and the throw-away database dropped."
            : "Running on another console instance: its job was deleted, which stops it there and drops its database.";
        await audit.RecordAsync(actor, AuditActions.VerificationCancelled, run.BackupFileName, AuditOutcome.Succeeded, detail, ct);
    }

    private async Task RunRegisteredAsync(Guid runId, CancellationToken ct)
    {
        VerificationRun run;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            run = await db.Set<VerificationRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
                ?? throw new KeyNotFoundException($"No verification run {runId}.");
        }

        if (run.Status != VerificationStatus.Queued)
        {
            logger.LogInformation("Verification {RunId} is {Status}, not queued; nothing to do", runId, run.Status);
            return;
        }

        // Held for the whole run: other instances see the run is alive and leave its database alone.
        await using var alive = await locks.TryAcquireAsync(ConsoleLocks.ForVerificationRun(run.Id), ct)
            ?? throw new InvalidOperationException($"Verification {run.Id} is already running elsewhere.");
        var startedAt = time.GetUtcNow();
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Claimed only if still queued: a cancellation that came first wins.
            var claimed = await db.Set<VerificationRun>()
                .Where(r => r.Id == runId && r.Status == VerificationStatus.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, VerificationStatus.Running).SetProperty(r => r.StartedAt, startedAt), ct);
            if (claimed == 0)
            {
                logger.LogInformation("Verification {RunId} was cancelled before it started; nothing to do", runId);
                return;
            }
        }

        run.Status = VerificationStatus.Running;
        run.StartedAt = startedAt;
        await SetPhaseAsync(run, RestorePhase.Checking);

        NpgsqlConnectionStringBuilder? server = null;
        var created = false;
        var watch = Stopwatch.StartNew();
        string? failure = null;
        ArchiveCheck? failedCheck = null;
        var status = VerificationStatus.Failed;
        try
        {
            server = await ServerAsync(run, ct);
            run.Server = $"{server.Host}:{server.Port}";
            run.Leftovers = await SweepLeftoversAsync(server, run.Id, ct);
            await SaveAsync(run);

            CheckedArchive archive;
            try
            {
                archive = await checker.CheckAsync(run.BackupId ?? Guid.Empty, ct);
            }
            catch (ArchiveCheckFailedException e)
            {
                failedCheck = e.Check;
                throw new VerificationFailedException(run.Id,
                    $"Verification stopped before touching any database. {e.Message} No database was created. Pick another backup, or copy this one again from another store.", e);
            }

            await using (archive)
            {
                run.ChecksDuration = watch.Elapsed;
                await SetPhaseAsync(run, RestorePhase.Creating);
                created = await CreateVerifyDatabaseAsync(run, server, ct);

                await SetPhaseAsync(run, RestorePhase.Restoring);
                watch.Restart();
                var loaded = 0;
                var into = server.Unpooled(run.DatabaseName);
                var result = await ArchiveRestore.RunAsync(pgTools, into, archive, ArchiveRestoreStyle.ThrowAway, run.Jobs, singleTransaction: false,
                    _ => notifier.Publish(new VerificationProgress(run.Id, run.Status, RestorePhase.Restoring, Interlocked.Increment(ref loaded), archive.TableDataEntries)),
                    ct);
                run.RestoreDuration = watch.Elapsed;
                if (!result.Succeeded)
                {
                    throw new VerificationFailedException(run.Id, $"pg_restore could not restore {run.BackupFileName}: {result.ErrorSummary}. This backup may not be restorable; take a new one and verify it.");
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
                run.RowsCounted = counts.Sum(c => c.Rows);
                var comparison = TableCountComparison.Compare(archive.Manifest.Tables, counts);
                await SaveCountsAsync(run, comparison);
                if (TableCountComparison.DescribeMismatches(comparison) is { } mismatch)
                {
                    throw new VerificationFailedException(run.Id, $"{run.BackupFileName} restored, but its row counts differ from the manifest: {mismatch}. Do not rely on this backup; take a new one.");
                }

                status = VerificationStatus.Passed;
            }
        }
        catch (Exception e)
        {
            var cancelled = e is OperationCanceledException && ct.IsCancellationRequested;
            status = cancelled ? VerificationStatus.Cancelled : VerificationStatus.Failed;
            failure = e switch
            {
                VerificationFailedException => e.Message,
                _ when cancelled => "The verification was cancelled.",
                PostgresException pg => $"PostgreSQL refused the verification: {pg.MessageText} ({pg.SqlState}).",
                NpgsqlException n => $"The verification server could not be reached: {n.Message}.",
                _ => $"The verification failed: {e.Message}",
            };
        }
        finally
        {
            if (created && server is not null)
            {
                await SetPhaseAsync(run, RestorePhase.CleaningUp);
                var notDropped = await DropAsync(server, run.DatabaseName!);
                run.DatabaseDropped = notDropped is null;
                if (notDropped is not null)
                {
                    failure = (failure is null ? "" : failure + " ") + $"The throw-away database {run.DatabaseName} could not be dropped ({notDropped}); the next verification drops it.";
                    status = status == VerificationStatus.Passed ? VerificationStatus.Failed : status;
                }
            }

            await FinishAsync(run, status, failure, failedCheck);
        }

        if (status != VerificationStatus.Passed)
        {
            throw new VerificationFailedException(run.Id, failure ?? "The verification did not pass.");
        }
    }

    private async Task<NpgsqlConnectionStringBuilder> ServerAsync(VerificationRun run, CancellationToken ct) =>
        string.IsNullOrWhiteSpace(options.CurrentValue.ScratchServer)
            ? await targets.GetConnectionAsync(run.TargetId, ct)
            : PgConnection.Parse(options.CurrentValue.ScratchServer);

    /// <summary>Creates <c>hellojohn_verify_&lt;unix time&gt;</c>, with a suffix when another run took that second.
    /// The name is saved before the database exists, so a crash right after leaves a record of it.</summary>
    private async Task<bool> CreateVerifyDatabaseAsync(VerificationRun run, NpgsqlConnectionStringBuilder server, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(server.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        var now = time.GetUtcNow();
        for (var attempt = 1; ; attempt++)
        {
            run.DatabaseName = DatabaseNames.ForVerification(now, attempt);
            await SaveAsync(run);
            try
            {
                await ServerDatabases.CreateAsync(conn, run.DatabaseName, ct);
                return true;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase && attempt < MaxNameAttempts)
            {
                logger.LogInformation("{Database} exists already; trying the next name", run.DatabaseName);
            }
        }
    }

    /// <summary>Drops the throw-away database; null when it is gone, else why it could not be dropped.</summary>
    private async Task<string?> DropAsync(NpgsqlConnectionStringBuilder server, string database)
    {
        // Runs after success, failure and cancellation alike, so never with the run's token; bounded on its own.
        using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string? reason;
        try
        {
            reason = await ServerDatabases.DropOwnAsync(server, database, time, cleanup.Token);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            reason = e.Message;
        }

        if (reason is not null)
        {
            var who = await SessionsInAsync(server, database);
            logger.LogWarning("Could not drop the verification database {Database}: {Reason} {Sessions}", database, reason, who);
            reason += who is null ? "" : $"; connected: {who}";
        }

        return reason;
    }

    /// <summary>Who is connected to a database (roles and programs, never queries), to say what kept it from being dropped.</summary>
    private static async Task<string?> SessionsInAsync(NpgsqlConnectionStringBuilder server, string database)
    {
        try
        {
            await using var conn = new NpgsqlConnection(server.Unpooled().ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "SELECT string_agg(coalesce(usename, '?') || ' (' || coalesce(nullif(application_name, ''), backend_type) || ')', ', ') FROM pg_stat_activity WHERE datname = $1", conn)
            {
                Parameters = { new() { Value = database } },
            };
            return await cmd.ExecuteScalarAsync() as string;
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }

    /// <summary>Finds verification databases that crashed runs left on the server and drops them, unless a live run
    /// owns one or sessions still use it. Marks the crashed runs as failed. Returns a report for the run, or null.</summary>
    private async Task<string?> SweepLeftoversAsync(NpgsqlConnectionStringBuilder server, Guid currentRunId, CancellationToken ct)
    {
        await FailAbandonedRunsAsync(currentRunId, ct);
        await using var conn = new NpgsqlConnection(server.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        var found = (await ServerDatabases.ListAsync(conn, DatabaseNames.VerificationPrefix, ct))
            .Where(d => DatabaseNames.IsVerificationDatabase(d.Name)).ToList();
        if (found.Count == 0)
        {
            return null;
        }

        var notes = new List<string>();
        foreach (var (name, sessions) in found)
        {
            VerificationRun? owner;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                owner = await db.Set<VerificationRun>().AsNoTracking().Where(r => r.DatabaseName == name).OrderByDescending(r => r.CreatedAt).FirstOrDefaultAsync(ct);
            }

            if (owner is not null && (owner.Id == currentRunId || await locks.IsHeldAsync(ConsoleLocks.ForVerificationRun(owner.Id), ct)))
            {
                continue;
            }

            if (owner is null && DatabaseNames.CreatedAt(name) is { } made && time.GetUtcNow() - made < options.CurrentValue.LeftoverGracePeriod)
            {
                // Not ours and recent: another console sharing this server, or HelloJohn's own script, may be using it.
                notes.Add($"{name} (not made by this console and younger than {options.CurrentValue.LeftoverGracePeriod.TotalHours:0} h, left alone)");
                continue;
            }

            if (sessions > 0)
            {
                notes.Add($"{name} (in use by {sessions} session(s), left alone)");
                continue;
            }

            try
            {
                await ServerDatabases.DropAsync(conn, name, force: false, ct);
                notes.Add($"{name} (dropped)");
                logger.LogWarning("Dropped {Database}, left on {Server} by a verification that did not finish", name, $"{server.Host}:{server.Port}");
                if (owner is not null)
                {
                    await using var db = await dbFactory.CreateDbContextAsync(ct);
                    await db.Set<VerificationRun>().Where(r => r.Id == owner.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.DatabaseDropped, true), ct);
                }
            }
            catch (PostgresException e)
            {
                notes.Add($"{name} (could not be dropped: {e.MessageText})");
            }
        }

        return notes.Count == 0 ? null : $"Found {notes.Count} leftover verification database(s): {string.Join(", ", notes)}.";
    }

    private async Task FailAbandonedRunsAsync(Guid currentRunId, CancellationToken ct)
    {
        List<Guid> running;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            running = await db.Set<VerificationRun>().Where(r => r.Status == VerificationStatus.Running && r.Id != currentRunId).Select(r => r.Id).ToListAsync(ct);
        }

        foreach (var id in running)
        {
            if (await locks.IsHeldAsync(ConsoleLocks.ForVerificationRun(id), ct))
            {
                continue;
            }

            var now = time.GetUtcNow();
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await db.Set<VerificationRun>().Where(r => r.Id == id && r.Status == VerificationStatus.Running).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, VerificationStatus.Failed)
                .SetProperty(r => r.Phase, RestorePhase.Done)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, "The console process that ran this verification stopped before it finished. Its throw-away database is dropped by the next verification; verify the backup again."), ct);
        }
    }

    private async Task SetPhaseAsync(VerificationRun run, RestorePhase phase)
    {
        run.Phase = phase;
        await SaveAsync(run);
        notifier.Publish(new VerificationProgress(run.Id, run.Status, phase, 0, 0));
    }

    private async Task SaveAsync(VerificationRun run)
    {
        // The record must say what happened even when the run itself was cancelled.
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Entry(run).State = EntityState.Modified;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private async Task SaveCountsAsync(VerificationRun run, IReadOnlyList<TableCountResult> comparison)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Set<VerificationTableCount>().AddRange(comparison.Select(c => new VerificationTableCount
        {
            RunId = run.Id,
            Schema = c.Schema,
            Table = c.Table,
            Expected = c.Expected,
            Actual = c.Actual,
        }));
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private async Task FinishAsync(VerificationRun run, VerificationStatus status, string? error, ArchiveCheck? failedCheck)
    {
        run.Status = status;
        run.Phase = RestorePhase.Done;
        run.FinishedAt = time.GetUtcNow();
        run.Error = error is { Length: > 4000 } ? error[..4000] : error;
        run.FailedCheck = failedCheck?.ToString();
        await SaveAsync(run);
        var actor = new Actor(run.RequestedByUserId, run.RequestedBy ?? "system", []);
        await audit.RecordAsync(actor, AuditActions.VerificationFinished, run.BackupFileName,
            status == VerificationStatus.Passed ? AuditOutcome.Succeeded : AuditOutcome.Failed,
            status == VerificationStatus.Passed
                ? $"passed in {run.Duration?.TotalSeconds:0.0} s: {run.RowsCounted:N0} rows, counts equal the manifest"
                : $"{status.ToString().ToLowerInvariant()}: {run.Error}", CancellationToken.None);
        notifier.Publish(new VerificationProgress(run.Id, status, RestorePhase.Done, 0, 0));
        logger.LogInformation("Verification of {File} {Status} in {Duration}", run.BackupFileName, status, run.Duration);
    }

    public async Task<VerificationRunPage> QueryAsync(int page, int pageSize, Guid? backupId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Set<VerificationRun>().AsNoTracking();
        if (backupId is { } b)
        {
            q = q.Where(r => r.BackupId == b);
        }

        var total = await q.CountAsync(ct);
        var items = await q.OrderByDescending(r => r.CreatedAt).Skip(page * pageSize).Take(pageSize)
            .Select(r => new VerificationRunItem(r.Id, r.BackupId, r.BackupFileName, r.Target!.Name, r.DatabaseName, r.Server, r.Status, r.Trigger, r.Phase,
                r.RequestedBy, r.CreatedAt, r.StartedAt, r.FinishedAt, r.ChecksDuration, r.RestoreDuration, r.CountDuration, r.Jobs, r.RowsCounted,
                r.FailedCheck, r.Error, r.DatabaseDropped, r.Leftovers))
            .ToListAsync(ct);
        return new VerificationRunPage(items, total);
    }

    public async Task<VerificationRunDetails?> GetAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var r = await db.Set<VerificationRun>().AsNoTracking().Include(x => x.Target).Include(x => x.Tables).AsSplitQuery().FirstOrDefaultAsync(x => x.Id == runId, ct);
        if (r is null)
        {
            return null;
        }

        var item = new VerificationRunItem(r.Id, r.BackupId, r.BackupFileName, r.Target!.Name, r.DatabaseName, r.Server, r.Status, r.Trigger, r.Phase,
            r.RequestedBy, r.CreatedAt, r.StartedAt, r.FinishedAt, r.ChecksDuration, r.RestoreDuration, r.CountDuration, r.Jobs, r.RowsCounted,
            r.FailedCheck, r.Error, r.DatabaseDropped, r.Leftovers);
        var tables = TableCountComparison.Compare(
            r.Tables.Where(t => t.Expected is not null).Select(t => new ManifestTableCount(t.Schema, t.Table, t.Expected!.Value)),
            r.Tables.Where(t => t.Actual is not null).Select(t => new TableRowCount(t.Schema, t.Table, t.Actual!.Value)));
        return new VerificationRunDetails(item, tables);
    }

    /// <summary>The latest verification outcome of each backup, for the badges in the Backups grid.</summary>
    public async Task<IReadOnlyDictionary<Guid, VerificationBadge>> LatestForBackupsAsync(IReadOnlyCollection<Guid> backupIds, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var runs = await db.Set<VerificationRun>().AsNoTracking()
            .Where(r => r.BackupId != null && backupIds.Contains(r.BackupId.Value))
            .Select(r => new { BackupId = r.BackupId!.Value, r.Status, r.CreatedAt, r.FinishedAt, r.Error })
            .ToListAsync(ct);
        var badges = new Dictionary<Guid, VerificationBadge>();
        foreach (var id in backupIds)
        {
            var mine = runs.Where(r => r.BackupId == id).ToList();
            var inProgress = mine.Any(r => r.Status is VerificationStatus.Queued or VerificationStatus.Running);
            // A cancelled run proves nothing either way; the latest pass or fail decides.
            var latest = mine.Where(r => r.Status is VerificationStatus.Passed or VerificationStatus.Failed).MaxBy(r => r.CreatedAt);
            badges[id] = latest is null
                ? VerificationBadge.Never with { InProgress = inProgress }
                : new VerificationBadge(latest.Status == VerificationStatus.Passed ? VerificationBadgeState.Verified : VerificationBadgeState.Failed,
                    latest.FinishedAt, inProgress, latest.Error);
        }

        return badges;
    }
}
