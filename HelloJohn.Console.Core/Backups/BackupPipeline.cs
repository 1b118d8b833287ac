using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Backups;

/// <summary>Where a backup is, as its run shows it.</summary>
public enum BackupPhase
{
    Queued,
    /// <summary>Waiting for another backup of the same target to end (never two at once).</summary>
    Waiting,
    Connecting,
    Dumping,
    Storing,
    Done,
}

/// <summary>What one pass of the pipeline produced: the file is complete in <see cref="Stored"/>, with its manifest.</summary>
public sealed record BackupPipelineResult(
    BackupStatus Status,
    string? PartialNote,
    long Size,
    string Sha256,
    string ServerVersion,
    string PgDumpVersion,
    string? SchemaVersion,
    IReadOnlyList<TableRowCount> Counts,
    IReadOnlyList<string> Stored,
    IReadOnlyList<string> FailedStores,
    DateTimeOffset FinishedAt)
{
    /// <summary>The database dumped.</summary>
    public string? Database { get; init; }
}

/// <summary>One backup in one streaming pass: a <c>REPEATABLE READ</c> snapshot of the target, row counts taken in that
/// snapshot while pg_dump dumps it, the dump compressed and hashed on its way into every daily store at once, then the
/// manifest beside the file in each store that kept it. A store that fails mid-way is dropped, not the backup.</summary>
public sealed class BackupPipeline(
    TargetService targets,
    IBackupStoreRegistry stores,
    BackupSpaceCheck spaceCheck,
    IPgToolRunner pgTools,
    IOptionsMonitor<BackupOptions> options,
    TimeProvider time,
    ILogger<BackupPipeline> logger)
{
    /// <summary>The <c>application_name</c> of the connection that holds the dump's snapshot, as the target's
    /// <c>pg_stat_activity</c> shows it.</summary>
    public const string SnapshotApplicationName = "hellojohn-console snapshot";

    private static string? s_pgDumpVersion;

    /// <summary>Runs the pipeline for <paramref name="record"/> (its target loaded). Throws
    /// <see cref="BackupFailedException"/> (nothing kept) or, when <paramref name="ct"/> stops it, the cancellation.</summary>
    public async Task<BackupPipelineResult> RunAsync(BackupRecord record, Func<BackupPhase, Task> phase, Action<long> progress, CancellationToken ct)
    {
        var uploads = new List<(IBackupStore Store, IBackupUpload Upload)>();
        NpgsqlConnectionStringBuilder? connection = null;
        using var reporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task? reporter = null;
        try
        {
            await phase(BackupPhase.Connecting);
            connection = await targets.GetConnectionAsync(record.TargetId, record.DatabaseName, ct);
            var beginFailures = await BeginUploadsAsync(record, uploads, ct);

            await using var snapshotConn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { ApplicationName = SnapshotApplicationName }.ConnectionString);
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
            PgDumpCompatibility.EnsureCanDump(pgDumpVersion, serverVersion, connection.Describe());
            await phase(BackupPhase.Dumping);
            await using var fanOut = new FanOutStream([.. uploads.Select(u => u.Upload.Stream)]);
            reporter = ReportAsync(fanOut, progress, reporting.Token);
            // The record's compression, not today's setting: the file name already says which it is.
            var compression = BackupCompression.Parse(record.Compression);
            await using var dumpOutput = compression.WrapDumpOutput(fanOut);

            // pg_dump and the counts read the same exported snapshot, so they run side by side.
            var output = new FirstOutputSignal(dumpOutput);
            var dump = pgTools.RunAsync(new PgToolInvocation("pg_dump",
            [
                "--format=custom", $"--compress={compression.PgDumpLevel}", $"--snapshot={snapshotId}", "--no-password",
                "--dbname", connection.Database!,
            ])
            { Connection = connection, StandardOutput = output }, ct);
            var counts = await DatabaseInspector.CountRowsAsync(snapshotConn, ct);
            // pg_dump's first byte comes after it imported the snapshot and locked its tables: from then on its own
            // transaction holds the snapshot, and the exporting one would only hold back vacuum on the target for as
            // long as the dump (and a slow store) takes.
            await Task.WhenAny(output.FirstByte, dump);
            await snapshotTx.CommitAsync(ct);
            await snapshotConn.CloseAsync();
            var result = await dump;
            if (!result.Succeeded)
            {
                throw new PgDumpFailedException($"pg_dump failed on {connection.Describe()}: {result.ErrorSummary}. Nothing was kept.");
            }

            // Writes the end of the zstd frame, which must be in the file and its hash.
            await dumpOutput.DisposeAsync();
            await fanOut.FlushAsync(ct);
            var sha256 = fanOut.FinishHash();
            var size = fanOut.BytesWritten;
            await reporting.CancelAsync();
            await reporter;
            progress(size);

            await phase(BackupPhase.Storing);
            var storeFailures = new List<string>(beginFailures);
            var stored = await CompleteUploadsAsync(record.FileName, uploads, fanOut, storeFailures, ct);
            var finishedAt = time.GetUtcNow();
            var manifest = new BackupManifest
            {
                BackupId = record.Id,
                TargetName = record.Target!.Name,
                TargetAddress = connection.Describe(),
                DatabaseName = connection.Database,
                SetId = record.SetId,
                SetName = record.Set?.Name,
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
            await WriteManifestsAsync(record.FileName, manifest.ToJsonBytes(), stored, storeFailures, ct);

            var status = storeFailures.Count == 0 ? BackupStatus.Succeeded : BackupStatus.PartiallyStored;
            var partialNote = storeFailures.Count == 0 ? null
                : $"Stored in {string.Join(", ", stored.Select(x => x.Name))} only; not in {string.Join("; ", storeFailures)}. Use Retry upload to copy it from {stored[0].Name}.";
            return new BackupPipelineResult(status, partialNote, size, sha256, serverVersion, pgDumpVersion, schemaVersion, counts,
                [.. stored.Select(s => s.Name)], storeFailures, finishedAt) { Database = connection.Database };
        }
        catch (Exception e)
        {
            await reporting.CancelAsync();
            if (reporter is not null)
            {
                await reporter;
            }

            foreach (var (store, upload) in uploads)
            {
                await SafeAbortAsync(store, upload, record.FileName);
            }

            if (e is OperationCanceledException && ct.IsCancellationRequested)
            {
                throw;
            }

            if (e is BackupFailedException)
            {
                throw;
            }

            var (message, kind) = e is PgDumpFailedException ? (e.Message, RunFailureKind.Tool) : BackupFailure.Classify(e, connection);
            throw new BackupFailedException(message, e) { FailureKind = kind };
        }
    }

    private async Task<List<string>> BeginUploadsAsync(BackupRecord record, List<(IBackupStore, IBackupUpload)> uploads, CancellationToken ct)
    {
        var fileName = record.FileName;
        // A local store with clearly too little room is not written to; it says why when asked for an upload.
        var destinations = await spaceCheck.WithRoomAsync(record, stores.StoresOf(BackupTier.Daily), ct);
        if (destinations.Count == 0)
        {
            throw new InvalidOperationException("No backup store is configured.");
        }

        var failures = new List<string>();
        foreach (var store in destinations)
        {
            try
            {
                uploads.Add((store, await store.BeginUploadAsync(fileName, ct)));
            }
            catch (Exception e) when (e is not OperationCanceledException && destinations.Count > 1)
            {
                failures.Add($"{store.Name}: {e.Message}");
            }
        }

        if (uploads.Count == 0)
        {
            throw new IOException("No backup store accepted the dump (" + string.Join("; ", failures) + ").");
        }

        return failures;
    }

    /// <summary>Completes each upload whose stream took every byte; one that failed mid-way is aborted and named.</summary>
    private async Task<List<IBackupStore>> CompleteUploadsAsync(string fileName, List<(IBackupStore Store, IBackupUpload Upload)> uploads, FanOutStream fanOut,
        List<string> failures, CancellationToken ct)
    {
        // A store that failed mid-way is dropped; the backup is kept where it is complete and marked partially
        // stored, so a remote outage never costs the local copy.
        var stored = new List<IBackupStore>();
        for (var i = 0; i < uploads.Count; i++)
        {
            var (store, upload) = uploads[i];
            if (fanOut.FailureOf(i) is { } failure)
            {
                await SafeAbortAsync(store, upload, fileName);
                failures.Add($"{store.Name}: {failure.Message}");
                continue;
            }

            try
            {
                await upload.CompleteAsync(ct);
                stored.Add(store);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await SafeAbortAsync(store, upload, fileName);
                failures.Add($"{store.Name}: {e.Message}");
            }
        }

        if (stored.Count == 0)
        {
            throw new IOException("No backup store kept the dump (" + string.Join("; ", failures) + ").");
        }

        return stored;
    }

    private async Task WriteManifestsAsync(string fileName, byte[] manifest, List<IBackupStore> stored, List<string> failures, CancellationToken ct)
    {
        foreach (var store in stored.ToList())
        {
            try
            {
                await store.PutSmallAsync(BackupManifest.KeyFor(fileName), manifest, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException && stored.Count > 1)
            {
                // A dump without its manifest cannot be trusted or rebuilt from: take it back out of that store.
                await TryDeleteAsync(store, fileName);
                stored.Remove(store);
                failures.Add($"{store.Name}: the manifest could not be written ({e.Message})");
            }
        }
    }

    private async Task ReportAsync(FanOutStream written, Action<long> progress, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.CurrentValue.ProgressInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                progress(written.BytesWritten);
            }
        }
        catch (OperationCanceledException)
        {
            // The dump ended; the pipeline reports its final size itself.
        }
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
            // The record says failed either way; what is left is removed by the sweep's tidying.
            logger.LogWarning("Could not abort the upload of {Key} to {Store}: {Message}", key, store.Name, e.Message);
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
}
