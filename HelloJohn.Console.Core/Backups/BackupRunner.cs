using System.Globalization;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Backups;

/// <summary>A backup's account of its run, for whoever is told it ended (retention, verify-after-backup, notifications).</summary>
/// <param name="FailedStores">"store: reason" for each daily store that did not keep the file.</param>
public sealed record BackupRunSummary(string Text, string FileName, BackupTrigger Trigger, BackupStatus CatalogStatus, long? SizeBytes, int Tables, long Rows,
    IReadOnlyList<string> FailedStores) : RunSummary(Text)
{
    /// <summary>The set it is a member of: what follows a set (retention, verification) follows the whole set.</summary>
    public Guid? SetId { get; init; }
}

/// <summary>Executes one queued backup as a run: waits for its target's turn (never two backups of one target at
/// once), claims the run, drives the <see cref="BackupPipeline"/> and records the outcome in the catalog together with
/// the run's end.</summary>
public sealed class BackupRunner(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    BackupPipeline pipeline,
    RunLifecycle lifecycle,
    ConsoleLocks locks,
    IOptionsMonitor<BackupOptions> options,
    TimeProvider time,
    ILogger<BackupRunner> logger)
{
    private static readonly TimeSpan TurnPoll = TimeSpan.FromSeconds(2);

    public async Task RunAsync(Guid backupId, CancellationToken ct)
    {
        BackupRecord record;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            record = await db.Backups.AsNoTracking().Include(b => b.Target).Include(b => b.Set).FirstOrDefaultAsync(b => b.Id == backupId, ct)
                ?? throw new KeyNotFoundException($"No backup record {backupId}.");
        }

        if (record.Status != BackupStatus.Queued)
        {
            logger.LogInformation("Backup {File} is {Status}, not queued; nothing to do", record.FileName, record.Status);
            return;
        }

        await using var turn = await WaitForTurnAsync(record, ct);
        if (turn is null)
        {
            return;
        }

        var claim = await lifecycle.ClaimAsync(backupId, nameof(BackupPhase.Connecting), ct);
        if (claim is null)
        {
            logger.LogInformation("Backup {File} was cancelled before it started; nothing to do", record.FileName);
            return;
        }

        await using (claim)
        {
            record.StartedAt = claim.Run.StartedAt;
            // The dump's size is not known up front; the previous backup of the same database is the best guess.
            lifecycle.ReportProgress(claim, 0, await PreviousSizeAsync(record, claim.Token));
            await RunClaimedAsync(claim, record);
        }
    }

    /// <summary>The size of the newest earlier backup of the same database that was stored; null when there is none.</summary>
    private async Task<long?> PreviousSizeAsync(BackupRecord record, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Backups.AsNoTracking()
            .Where(b => b.TargetId == record.TargetId && b.DatabaseName == record.DatabaseName && b.Id != record.Id && b.CreatedAt <= record.CreatedAt
                && b.SizeBytes != null && b.SizeBytes > 0
                && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored || b.Status == BackupStatus.Expired))
            .OrderByDescending(b => b.CreatedAt)
            .Select(b => b.SizeBytes)
            .FirstOrDefaultAsync(ct);
    }

    private async Task RunClaimedAsync(RunClaim claim, BackupRecord record)
    {
        BackupPipelineResult result;
        try
        {
            result = await pipeline.RunAsync(record, p => lifecycle.SetPhaseAsync(claim, p.ToString()), bytes => lifecycle.ReportProgress(claim, bytes), claim.Token);
        }
        catch (OperationCanceledException e) when (claim.StopRequested)
        {
            var message = BackupFailure.Describe(e, null);
            await lifecycle.FinishAsync(claim, new RunEnd(RunStatus.Cancelled, message) { AuditDetail = $"cancelled: {message}" });
            logger.LogWarning("Backup {File} cancelled ({Reason}): {Message}", record.FileName, claim.StopReason ?? "the console stopped", message);
            throw new BackupFailedException(message, e);
        }
        catch (BackupFailedException e)
        {
            await lifecycle.FinishAsync(claim, new RunEnd(RunStatus.Failed, e.Message, e.FailureKind) { AuditDetail = $"failed: {e.Message}" });
            logger.LogWarning("Backup {File} failed: {Message}", record.FileName, e.Message);
            throw;
        }

        var rows = result.Counts.Sum(c => c.Rows);
        var summary = new BackupRunSummary($"{record.FileName}: {result.Size.ToString("N0", CultureInfo.InvariantCulture)} bytes, {result.Counts.Count} tables, {rows.ToString("N0", CultureInfo.InvariantCulture)} rows",
            record.FileName, record.Trigger, result.Status, result.Size, result.Counts.Count, rows, result.FailedStores) { SetId = record.SetId };
        await lifecycle.FinishAsync(claim, RunEnd.Succeeded(
            result.PartialNote is null ? $"{summary.Text}, sha256 {result.Sha256[..12]}" : $"partially stored: {result.PartialNote}", summary) with
        {
            Record = (db, ct) => RecordAsync(db, record, result, ct),
        });
        logger.LogInformation("Backup {File} of {Target} {Status}: {Size} bytes, {Tables} tables, sha256 {Sha}",
            record.FileName, record.Target!.Name, result.Status, result.Size, result.Counts.Count, result.Sha256[..12]);
        if (result.PartialNote is not null)
        {
            logger.LogWarning("Backup {File} is partially stored: {Note}", record.FileName, result.PartialNote);
        }
    }

    /// <summary>The catalog's entry of the finished file, written with the run's end.</summary>
    private static async Task RecordAsync(ConsoleDbContext db, BackupRecord record, BackupPipelineResult result, CancellationToken ct)
    {
        var r = await db.Backups.FirstAsync(b => b.Id == record.Id, ct);
        r.Status = result.Status;
        r.Error = result.PartialNote;
        r.StartedAt = record.StartedAt;
        r.FinishedAt = result.FinishedAt;
        r.SizeBytes = result.Size;
        r.BytesWritten = result.Size;
        r.Sha256 = result.Sha256;
        r.ServerVersion = result.ServerVersion;
        r.PgDumpVersion = result.PgDumpVersion;
        r.SchemaVersion = result.SchemaVersion;
        r.DatabaseName ??= result.Database;
        db.BackupTableCounts.AddRange(result.Counts.Select(c => new BackupTableCount { BackupId = record.Id, Schema = c.Schema, Table = c.Table, Rows = c.Rows }));
        db.Set<BackupLocation>().AddRange(result.Stored.Select(s => new BackupLocation { BackupId = record.Id, Store = s, Key = record.FileName, StoredAt = result.FinishedAt }));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Never two backups of one target at once: a scheduled backup that finds another running is skipped (the
    /// schedule takes the next); any other waits, queued, up to <see cref="BackupOptions.WaitForRunningBackup"/>.
    /// Returns the target's lock, held for the whole backup; null when this one is not to run (skipped or cancelled).</summary>
    private async Task<ConsoleLock?> WaitForTurnAsync(BackupRecord record, CancellationToken ct)
    {
        var since = time.GetUtcNow();
        var waiting = false;
        while (true)
        {
            if (await locks.TryAcquireAsync(ConsoleLocks.ForBackups(record.TargetId, record.DatabaseName), ct) is { } held)
            {
                return held;
            }

            var limit = options.CurrentValue.WaitForRunningBackup;
            if (record.Trigger == BackupTrigger.Scheduled || time.GetUtcNow() - since >= limit)
            {
                var other = await RunningFileAsync(record, ct);
                var why = record.Trigger == BackupTrigger.Scheduled
                    ? $"Skipped: the backup {other} of '{record.Target!.Name}' was still running, and two backups of one database never run at once. Nothing was written; the schedule's next run takes the next backup."
                    : $"Skipped: the backup {other} of '{record.Target!.Name}' was still running after {limit}. Nothing was written; back up again once it has finished.";
                await lifecycle.EndQueuedAsync(record.Id, new RunEnd(RunStatus.Cancelled, why) { AuditDetail = why });
                logger.LogWarning("Backup {File}: {Reason}", record.FileName, why);
                return null;
            }

            if (!waiting)
            {
                waiting = true;
                await lifecycle.SetQueuedPhaseAsync(RunKind.Backup, record.Id, nameof(BackupPhase.Waiting));
                logger.LogInformation("Backup {File} waits for the running backup of its target to end", record.FileName);
            }
            else if (!await lifecycle.IsQueuedAsync(record.Id, ct))
            {
                return null;
            }

            await Task.Delay(TurnPoll, time, ct);
        }
    }

    private async Task<string> RunningFileAsync(BackupRecord record, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Backups.Where(b => b.TargetId == record.TargetId && b.DatabaseName == record.DatabaseName && b.Status == BackupStatus.Running && b.Id != record.Id)
            .Select(b => b.FileName).FirstOrDefaultAsync(ct) ?? "taken by another console instance";
    }
}
