using System.Collections.Concurrent;
using System.Diagnostics;
using Hangfire;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Backups;

/// <summary>Takes logical backups of a HelloJohn database: one pass, streaming pg_dump's output through a SHA-256
/// hasher into every store at once, with row counts taken in the very snapshot pg_dump dumps.</summary>
public sealed class BackupService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    IBackupStoreRegistry stores,
    IPgToolRunner pgTools,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    BackupProgressNotifier notifier,
    IOptionsMonitor<BackupOptions> options,
    TimeProvider time,
    ILogger<BackupService> logger,
    IEnumerable<IBackupCompletedHandler> completedHandlers,
    Notifications.RunNotices notices,
    BackupSpaceCheck spaceCheck)
{
    private static readonly ConcurrentDictionary<Guid, CancellationTokenSource> RunningHere = new();
    private static string? s_pgDumpVersion;

    /// <summary>Queues a backup of <paramref name="targetId"/> (the default target when null) as a background job.</summary>
    public async Task<Guid> RequestAsync(Actor actor, Guid? targetId, BackupTrigger trigger, CancellationToken ct)
    {
        if (!actor.Has(ConsolePermission.RunBackup))
        {
            await audit.RecordAsync(actor, AuditActions.BackupRequested, targetId?.ToString(), AuditOutcome.Denied, ct: ct);
            actor.Demand(ConsolePermission.RunBackup);
        }

        var target = targetId is { } id ? await targets.GetAsync(id, ct) : await targets.GetDefaultAsync(ct)
            ?? throw new InvalidOperationException("No HelloJohn database is configured to back up. Set HELLOJOHN_DATABASE_URL.");
        var record = await CreateRecordAsync(target.Id, trigger, actor, ct);
        var jobId = jobs.Enqueue<BackupJob>(j => j.RunAsync(record.Id, CancellationToken.None));
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Backups.Where(b => b.Id == record.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.JobId, jobId), ct);
        }

        await audit.RecordAsync(actor, AuditActions.BackupRequested, $"{target.Name}: {record.FileName}", AuditOutcome.Succeeded, $"trigger {trigger}", ct);
        notifier.Publish(new BackupProgress(record.Id, BackupStatus.Queued, 0, null));
        return record.Id;
    }

    /// <summary>Creates the record and runs the backup in the caller (used for the safety backup before a restore in
    /// place, which must exist before anything else happens). Returns the finished record's id; throws when it failed.</summary>
    public async Task<Guid> RunNowAsync(Actor actor, Guid targetId, BackupTrigger trigger, CancellationToken ct)
    {
        actor.Demand(ConsolePermission.RunBackup);
        var record = await CreateRecordAsync(targetId, trigger, actor, ct);
        await audit.RecordAsync(actor, AuditActions.BackupRequested, record.FileName, AuditOutcome.Succeeded, $"trigger {trigger}", ct);
        await RunAsync(record.Id, ct);
        return record.Id;
    }

    private async Task<BackupRecord> CreateRecordAsync(Guid targetId, BackupTrigger trigger, Actor actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var compression = BackupCompression.Parse(options.CurrentValue.Compression);
        // Two backups in the same second (a manual one beside the schedule, two consoles) must not share a file: the
        // name is unique in the catalog, and a request that loses the race to a name takes the next suffix.
        for (var n = 1; ; n++)
        {
            var name = n == 1
                ? BackupNaming.FileNameFor(now, extension: compression.FileExtension)
                : BackupNaming.FileNameFor(now, n.ToString(System.Globalization.CultureInfo.InvariantCulture), compression.FileExtension);
            if (await db.Backups.AnyAsync(b => b.FileName == name, ct))
            {
                continue;
            }

            var record = new BackupRecord
            {
                Id = Guid.NewGuid(),
                TargetId = targetId,
                FileName = name,
                Status = BackupStatus.Queued,
                Trigger = trigger,
                RequestedBy = actor.Name,
                CreatedAt = now,
                Compression = compression.ToString(),
            };
            db.Backups.Add(record);
            try
            {
                await db.SaveChangesAsync(ct);
                return record;
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && n < 100)
            {
                // Taken a moment ago by a concurrent request.
                db.Entry(record).State = EntityState.Detached;
            }
        }
    }

    /// <summary>Runs the pipeline for a queued record. Re-entrant: a record that is no longer queued is left alone.</summary>
    public async Task RunAsync(Guid backupId, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        RunningHere[backupId] = cts;
        try
        {
            await RunPipelineAsync(backupId, cts.Token);
        }
        finally
        {
            RunningHere.TryRemove(backupId, out _);
        }
    }

    private async Task RunPipelineAsync(Guid backupId, CancellationToken ct)
    {
        var o = options.CurrentValue;
        BackupRecord record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Backups.Include(b => b.Target).FirstOrDefaultAsync(b => b.Id == backupId, ct)
                ?? throw new KeyNotFoundException($"No backup record {backupId}.");
            if (record.Status != BackupStatus.Queued)
            {
                logger.LogInformation("Backup {File} is {Status}, not queued; nothing to do", record.FileName, record.Status);
                return;
            }

            record.Status = BackupStatus.Running;
            record.StartedAt = time.GetUtcNow();
            record.HeartbeatAt = record.StartedAt;
            record.RunnerHost = Environment.MachineName;
            record.RunnerPid = Environment.ProcessId;
            await db.SaveChangesAsync(ct);
        }

        notifier.Publish(new BackupProgress(backupId, BackupStatus.Running, 0, null));
        var uploads = new List<(IBackupStore Store, IBackupUpload Upload)>();
        NpgsqlConnectionStringBuilder? connection = null;
        using var heartbeatCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task? heartbeat = null;
        try
        {
            connection = await targets.GetConnectionAsync(record.TargetId, ct);
            var destinations = await spaceCheck.WithRoomAsync(record, stores.StoresOf(BackupTier.Daily), ct);
            if (destinations.Count == 0)
            {
                throw new InvalidOperationException("No backup store is configured.");
            }

            var beginFailures = new List<string>();
            foreach (var store in destinations)
            {
                try
                {
                    uploads.Add((store, await store.BeginUploadAsync(record.FileName, ct)));
                }
                catch (Exception e) when (e is not OperationCanceledException && destinations.Count > 1)
                {
                    beginFailures.Add($"{store.Name}: {e.Message}");
                }
            }

            if (uploads.Count == 0)
            {
                throw new IOException("No backup store accepted the dump (" + string.Join("; ", beginFailures) + ").");
            }

            await using var snapshotConn = new NpgsqlConnection(connection.ConnectionString);
            await snapshotConn.OpenAsync(ct);
            var serverVersion = await DatabaseInspector.ServerVersionAsync(snapshotConn, ct);
            var schemaVersion = await DatabaseInspector.SchemaVersionAsync(snapshotConn, ct);
            await using var snapshotTx = await snapshotConn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            string snapshotId;
            await using (var cmd = new NpgsqlCommand("SET TRANSACTION READ ONLY; SELECT pg_export_snapshot()", snapshotConn, snapshotTx))
            {
                snapshotId = (string)(await cmd.ExecuteScalarAsync(ct))!;
            }

            var pgDumpVersion = await PgDumpVersionAsync(ct);
            await using var fanOut = new FanOutStream([.. uploads.Select(u => u.Upload.Stream)]);
            heartbeat = HeartbeatAsync(backupId, fanOut, o.ProgressInterval, heartbeatCts.Token);
            // The record's compression, not today's setting: the file name already says which it is.
            var compression = BackupCompression.Parse(record.Compression);
            await using var dumpOutput = compression.WrapDumpOutput(fanOut);

            // pg_dump and the counts read the same exported snapshot, so they run side by side.
            var dump = pgTools.RunAsync(new PgToolInvocation("pg_dump",
            [
                "--format=custom", $"--compress={compression.PgDumpLevel}", $"--snapshot={snapshotId}", "--no-password",
                "--dbname", connection.Database!,
            ])
            { Connection = connection, StandardOutput = dumpOutput }, ct);
            var counts = await DatabaseInspector.CountRowsAsync(snapshotConn, ct);
            var result = await dump;
            await snapshotTx.CommitAsync(ct);
            if (!result.Succeeded)
            {
                throw new PgDumpFailedException($"pg_dump failed on {connection.Describe()}: {result.ErrorSummary}. Nothing was kept.");
            }

            // Writes the end of the zstd frame, which must be in the file and its hash.
            await dumpOutput.DisposeAsync();
            await fanOut.FlushAsync(ct);
            var sha256 = fanOut.FinishHash();
            var size = fanOut.BytesWritten;
            await heartbeatCts.CancelAsync();
            await heartbeat;

            // A store that failed mid-way is dropped; the backup is kept where it is complete and marked partially
            // stored, so a remote outage never costs the local copy.
            var stored = new List<IBackupStore>();
            var storeFailures = new List<string>(beginFailures);
            for (var i = 0; i < uploads.Count; i++)
            {
                var (store, upload) = uploads[i];
                if (fanOut.FailureOf(i) is { } failure)
                {
                    await SafeAbortAsync(store, upload, record.FileName);
                    storeFailures.Add($"{store.Name}: {failure.Message}");
                    continue;
                }

                try
                {
                    await upload.CompleteAsync(ct);
                    stored.Add(store);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    await SafeAbortAsync(store, upload, record.FileName);
                    storeFailures.Add($"{store.Name}: {e.Message}");
                }
            }

            if (stored.Count == 0)
            {
                throw new IOException("No backup store kept the dump (" + string.Join("; ", storeFailures) + ").");
            }

            var finishedAt = time.GetUtcNow();
            var manifest = new BackupManifest
            {
                BackupId = backupId,
                TargetName = record.Target!.Name,
                TargetAddress = connection.Describe(),
                FileName = record.FileName,
                Format = record.Format,
                Compression = record.Compression,
                SizeBytes = size,
                Sha256 = sha256,
                StartedAt = record.StartedAt!.Value,
                FinishedAt = finishedAt,
                ServerVersion = serverVersion,
                PgDumpVersion = pgDumpVersion,
                SchemaVersion = schemaVersion,
                SnapshotId = snapshotId,
                Tier = record.Tier,
                Trigger = record.Trigger.ToString(),
                Tables = [.. counts.Select(c => new ManifestTableCount(c.Schema, c.Table, c.Rows))],
            };
            var manifestBytes = manifest.ToJsonBytes();
            foreach (var store in stored.ToList())
            {
                try
                {
                    await store.PutSmallAsync(BackupManifest.KeyFor(record.FileName), manifestBytes, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException && stored.Count > 1)
                {
                    // A dump without its manifest cannot be trusted or rebuilt from: take it back out of that store.
                    await TryDeleteAsync(store, record.FileName);
                    stored.Remove(store);
                    storeFailures.Add($"{store.Name}: the manifest could not be written ({e.Message})");
                }
            }

            var status = storeFailures.Count == 0 ? BackupStatus.Succeeded : BackupStatus.PartiallyStored;
            var partialNote = storeFailures.Count == 0 ? null
                : $"Stored in {string.Join(", ", stored.Select(x => x.Name))} only; not in {string.Join("; ", storeFailures)}. Use Retry upload to copy it from {stored[0].Name}.";

            await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            {
                var r = await db.Backups.FirstAsync(b => b.Id == backupId, CancellationToken.None);
                r.Status = status;
                r.Error = partialNote;
                r.FinishedAt = finishedAt;
                r.SizeBytes = size;
                r.BytesWritten = size;
                r.Sha256 = sha256;
                r.ServerVersion = serverVersion;
                r.PgDumpVersion = pgDumpVersion;
                r.SchemaVersion = schemaVersion;
                r.HeartbeatAt = finishedAt;
                db.BackupTableCounts.AddRange(counts.Select(c => new BackupTableCount { BackupId = backupId, Schema = c.Schema, Table = c.Table, Rows = c.Rows }));
                db.Set<BackupLocation>().AddRange(stored.Select(x => new BackupLocation { BackupId = backupId, Store = x.Name, Key = record.FileName, StoredAt = finishedAt }));
                await db.SaveChangesAsync(CancellationToken.None);
            }

            notifier.Publish(new BackupProgress(backupId, status, size, partialNote));
            // Retention runs after every backup; it copies weekly/monthly tiers and expires what the policy lets go.
            jobs.Enqueue<RetentionJob>(j => j.RunAsync(record.TargetId, CancellationToken.None));
            await NotifyCompletedAsync(new BackupCompleted(backupId, record.TargetId, record.Trigger, record.FileName));
            await notices.BackupFinishedAsync(backupId, storeFailures);
            logger.LogInformation("Backup {File} of {Target} {Status}: {Size} bytes, {Tables} tables, sha256 {Sha}", record.FileName, record.Target.Name, status, size, counts.Count, sha256[..12]);
            if (partialNote is not null)
            {
                logger.LogWarning("Backup {File} is partially stored: {Note}", record.FileName, partialNote);
            }
        }
        catch (Exception e)
        {
            await heartbeatCts.CancelAsync();
            if (heartbeat is not null)
            {
                await heartbeat;
            }

            foreach (var (store, upload) in uploads)
            {
                await SafeAbortAsync(store, upload, record.FileName);
            }

            var cancelled = e is OperationCanceledException && ct.IsCancellationRequested;
            var message = e is PgDumpFailedException ? e.Message : BackupFailure.Describe(e, connection);
            await MarkEndedAsync(backupId, cancelled ? BackupStatus.Cancelled : BackupStatus.Failed, message);
            await notices.BackupFinishedAsync(backupId);
            logger.LogWarning("Backup {File} {Outcome}: {Message}", record.FileName, cancelled ? "cancelled" : "failed", message);
            throw new BackupFailedException(message, e);
        }
    }

    private async Task NotifyCompletedAsync(BackupCompleted completed)
    {
        foreach (var handler in completedHandlers)
        {
            try
            {
                await handler.OnBackupSucceededAsync(completed, CancellationToken.None);
            }
            catch (Exception e)
            {
                // The backup is durable and recorded; what follows it must not turn it into a failure.
                logger.LogWarning("After backup {File}, {Handler} failed: {Message}", completed.FileName, handler.GetType().Name, e.Message);
            }
        }
    }

    /// <summary>Copies a partially stored backup from a store that holds it into the daily stores that lack it, checking
    /// its SHA-256 on the way. Returns the stores it reached.</summary>
    public async Task<IReadOnlyList<string>> RetryUploadAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        actor.Demand(ConsolePermission.RunBackup);
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
                    await hashing.FlushAsync(ct);
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
        notifier.Publish(new BackupProgress(record.Id, record.Status, record.SizeBytes ?? 0, record.Error));
        return reached;
    }

    private async Task TryDeleteAsync(IBackupStore store, string key)
    {
        try
        {
            await store.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning("Could not remove {Key} from {Store}: {Message}", key, store.Name, e.Message);
        }
    }

    private async Task SafeAbortAsync(IBackupStore store, IBackupUpload upload, string key)
    {
        try
        {
            await upload.AbortAsync();
        }
        catch (Exception e)
        {
            // The record says failed either way; an orphan is removed by the start-up sweep.
            logger.LogWarning("Could not abort the upload of {Key} to {Store}: {Message}", key, store.Name, e.Message);
        }
    }

    private async Task MarkEndedAsync(Guid backupId, BackupStatus status, string error)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var now = time.GetUtcNow();
        await db.Backups.Where(b => b.Id == backupId).ExecuteUpdateAsync(s => s
            .SetProperty(b => b.Status, status)
            .SetProperty(b => b.Error, error)
            .SetProperty(b => b.FinishedAt, now)
            .SetProperty(b => b.HeartbeatAt, now), CancellationToken.None);
        notifier.Publish(new BackupProgress(backupId, status, 0, error));
    }

    private async Task HeartbeatAsync(Guid backupId, FanOutStream progress, TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var written = progress.BytesWritten;
                var now = time.GetUtcNow();
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                await db.Backups.Where(b => b.Id == backupId && b.Status == BackupStatus.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(b => b.BytesWritten, written).SetProperty(b => b.HeartbeatAt, now), ct);
                notifier.Publish(new BackupProgress(backupId, BackupStatus.Running, written, null));
            }
        }
        catch (OperationCanceledException)
        {
            // The pipeline ended; its last state is written by the pipeline itself.
        }
    }

    private async Task<string> PgDumpVersionAsync(CancellationToken ct)
    {
        if (s_pgDumpVersion is null)
        {
            var r = await pgTools.RunAsync(new PgToolInvocation("pg_dump", ["--version"]), ct);
            s_pgDumpVersion = r.StandardOutputText.Trim();
        }

        return s_pgDumpVersion;
    }

    /// <summary>Stops a queued or running backup. Its partial files are removed and the record says cancelled.</summary>
    public async Task CancelAsync(Actor actor, Guid backupId, CancellationToken ct)
    {
        actor.Demand(ConsolePermission.CancelBackup);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.Backups.FirstOrDefaultAsync(b => b.Id == backupId, ct) ?? throw new KeyNotFoundException($"No backup {backupId}.");
        if (record.Status is not (BackupStatus.Queued or BackupStatus.Running))
        {
            throw new InvalidOperationException($"{record.FileName} is {record.Status.ToString().ToLowerInvariant()}; only a queued or running backup can be cancelled.");
        }

        if (RunningHere.TryGetValue(backupId, out var cts))
        {
            await cts.CancelAsync();
        }
        else if (record.JobId is not null)
        {
            // Runs on another instance (or has not started): Hangfire's deletion cancels its token there.
            jobs.Delete(record.JobId);
            if (record.Status == BackupStatus.Queued)
            {
                await MarkEndedAsync(backupId, BackupStatus.Cancelled, $"Cancelled by {actor.Name} before it started. Nothing was written.");
            }
        }

        await audit.RecordAsync(actor, AuditActions.BackupCancelled, record.FileName, AuditOutcome.Succeeded, ct: ct);
    }

    /// <summary>Pins a backup (retention never expires it) or unpins it. Only a backup with a file can be pinned.</summary>
    public async Task PinAsync(Actor actor, Guid backupId, bool pinned, CancellationToken ct)
    {
        var action = pinned ? "pin" : "unpin";
        if (!actor.Has(ConsolePermission.PinBackup))
        {
            await audit.RecordAsync(actor, AuditActions.BackupPinned, backupId.ToString(), AuditOutcome.Denied, $"Refused to {action}; nothing was changed.", ct);
            actor.Demand(ConsolePermission.PinBackup);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await db.Backups.FirstOrDefaultAsync(b => b.Id == backupId, ct)
            ?? throw new KeyNotFoundException($"There is no backup with id {backupId}; it may have been removed. Nothing was changed.");
        if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            throw new InvalidOperationException($"{record.FileName} is {StatusText(record.Status)}, so it has no file to keep; only a finished backup can be pinned. Nothing was changed.");
        }

        if (record.Pinned != pinned)
        {
            record.Pinned = pinned;
            await db.SaveChangesAsync(ct);
        }

        await audit.RecordAsync(actor, AuditActions.BackupPinned, record.FileName, AuditOutcome.Succeeded,
            pinned ? "Pinned: retention keeps it until it is unpinned." : "Unpinned: retention treats it like any other backup again.", ct);
    }

    private static string StatusText(BackupStatus status) => status == BackupStatus.PartiallyStored ? "partially stored" : status.ToString().ToLowerInvariant();

    /// <summary>Marks runs whose process died as failed and removes partial files nobody writes any more.
    /// Called at start and periodically.</summary>
    public async Task<int> FailAbandonedRunsAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var staleBefore = now - options.CurrentValue.AbandonedAfter;
        var running = await db.Backups.Where(b => b.Status == BackupStatus.Running).ToListAsync(ct);
        var failed = 0;
        foreach (var r in running)
        {
            var deadHere = r.RunnerHost == Environment.MachineName && r.RunnerPid is { } pid && pid != Environment.ProcessId && !ProcessAlive(pid);
            var silent = r.HeartbeatAt is null || r.HeartbeatAt < staleBefore;
            if (deadHere || silent)
            {
                r.Status = BackupStatus.Failed;
                r.FinishedAt = now;
                r.Error = $"The console process that ran this backup stopped before it finished (last heartbeat {r.HeartbeatAt:u}). No file was kept; take a new backup.";
                failed++;
            }
        }

        await db.SaveChangesAsync(ct);
        var stillRunning = (await db.Backups.Where(b => b.Status == BackupStatus.Running || b.Status == BackupStatus.Queued).Select(b => b.FileName).ToListAsync(ct)).ToHashSet();
        foreach (var local in stores.All.OfType<LocalDiskBackupStore>())
        {
            foreach (var removed in local.RemovePartialFiles(stillRunning.Contains))
            {
                logger.LogWarning("Removed the partial file of {File}, left by a backup that did not finish", removed);
            }
        }

        if (failed > 0)
        {
            logger.LogWarning("Marked {Count} abandoned backup run(s) as failed", failed);
        }

        return failed;
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async Task<BackupPage> QueryAsync(BackupQuery query, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.Backups.AsNoTracking();
        if (query.TargetId is { } t)
        {
            q = q.Where(b => b.TargetId == t);
        }

        if (query.Status is { } s)
        {
            q = q.Where(b => b.Status == s);
        }

        var total = await q.CountAsync(ct);
        var items = await q.OrderByDescending(b => b.CreatedAt)
            .Skip(query.Page * query.PageSize).Take(query.PageSize)
            .Select(b => new BackupListItem(b.Id, b.TargetId, b.Target!.Name, b.FileName, b.Status, b.Trigger, b.RequestedBy, b.CreatedAt,
                b.StartedAt, b.FinishedAt, b.BytesWritten, b.SizeBytes, b.Sha256, b.Error, b.Pinned, b.Tier))
            .ToListAsync(ct);
        return new BackupPage(items, total);
    }

    public async Task<BackupDetails?> GetAsync(Guid backupId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var b = await db.Backups.AsNoTracking().Include(x => x.Target).Include(x => x.TableCounts).Include(x => x.Locations)
            .AsSplitQuery().FirstOrDefaultAsync(x => x.Id == backupId, ct);
        if (b is null)
        {
            return null;
        }

        var item = new BackupListItem(b.Id, b.TargetId, b.Target!.Name, b.FileName, b.Status, b.Trigger, b.RequestedBy, b.CreatedAt,
            b.StartedAt, b.FinishedAt, b.BytesWritten, b.SizeBytes, b.Sha256, b.Error, b.Pinned, b.Tier);
        var tables = DatabaseInspector.Order(b.TableCounts.Select(c => new TableRowCount(c.Schema, c.Table, c.Rows)))
            .Select(c => new ManifestTableCount(c.Schema, c.Table, c.Rows)).ToList();
        return new BackupDetails(item, tables, [.. b.Locations.Select(l => new BackupLocationInfo(l.Store, l.Key, l.StorageClass, l.StoredAt))],
            b.Format, b.Compression, b.ServerVersion, b.PgDumpVersion, b.SchemaVersion);
    }
}

public sealed class BackupFailedException(string message, Exception inner) : Exception(message, inner);
