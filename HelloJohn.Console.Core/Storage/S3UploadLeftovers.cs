using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Storage;

/// <summary>What one sweep of unfinished S3 uploads did.</summary>
public sealed record LeftoverSweep(IReadOnlyList<string> Aborted, int LeftRunning, IReadOnlyList<string> Problems);

/// <summary>Finds the console's own unfinished multipart uploads (under each S3 store's prefix) and aborts those no
/// running work owns, so their parts stop costing storage. Runs at start and after every backup that failed, was
/// cancelled or was only partially stored. The bucket's <c>AbortIncompleteMultipartUpload</c> lifecycle rule is the
/// second line of defence (README).</summary>
/// <remarks>
/// An upload's key is its backup's file name. The upload of a backup that is queued or running is left alone; that of a
/// failed, cancelled, expired or unverifiable backup is aborted at once, and so is one started before its backup
/// finished (the run's own, lost when a store failed). Any other upload of a finished backup (or of a name the catalog
/// does not know) may be a tier copy or an upload retry running on another instance, so it is aborted only once it is
/// older than <see cref="StaleAfter"/>.
/// </remarks>
public sealed class S3UploadLeftovers(
    IBackupStoreRegistry stores,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TimeProvider time,
    ILogger<S3UploadLeftovers> logger)
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(24);

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Aborts the unfinished uploads no running work owns, in every S3 store. A store that cannot be reached is
    /// reported in <see cref="LeftoverSweep.Problems"/>; the others are still swept.</summary>
    public async Task<LeftoverSweep> AbortAsync(CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            var aborted = new List<string>();
            var problems = new List<string>();
            var leftRunning = 0;
            foreach (var store in stores.All.OfType<S3BackupStore>())
            {
                if (await store.RetryFailedAbortsAsync() is > 0 and var stillOpen)
                {
                    problems.Add($"{store.Name}: {stillOpen} upload(s) of this process could not be aborted yet.");
                }

                try
                {
                    leftRunning += await SweepAsync(store, aborted, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    problems.Add($"{store.Name}: {e.Message}");
                }
            }

            if (aborted.Count > 0 || problems.Count > 0)
            {
                logger.LogInformation("Unfinished S3 uploads: {Aborted} aborted, {Running} left to running work; {Problems}",
                    aborted.Count, leftRunning, problems.Count == 0 ? "no problem" : string.Join(" ", problems));
            }

            return new LeftoverSweep(aborted, leftRunning, problems);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Why an upload should be aborted now, or null to leave it.</summary>
    internal static string? ReasonToAbort(BackupStatus? status, DateTimeOffset? finishedAt, DateTimeOffset initiated, DateTimeOffset now) => status switch
    {
        BackupStatus.Queued or BackupStatus.Running => null,
        BackupStatus.Failed or BackupStatus.Cancelled or BackupStatus.Expired or BackupStatus.Unverifiable => $"its backup is {status.Value.ToString().ToLowerInvariant()}",
        not null when initiated < finishedAt => $"started by its backup's own run, which finished at {finishedAt:u} without it",
        _ when now - initiated > StaleAfter => $"unfinished since {initiated:u}",
        _ => null,
    };

    private async Task<int> SweepAsync(S3BackupStore store, List<string> aborted, CancellationToken ct)
    {
        var uploads = await store.ListIncompleteUploadsAsync(ct);
        if (uploads.Count == 0)
        {
            return 0;
        }

        var names = uploads.Select(u => u.Key).Distinct(StringComparer.Ordinal).ToList();
        Dictionary<string, (BackupStatus Status, DateTimeOffset? FinishedAt)> backups;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backups = (await db.Backups.AsNoTracking().Where(b => names.Contains(b.FileName))
                .Select(b => new { b.FileName, b.Status, b.FinishedAt }).ToListAsync(ct))
                .ToDictionary(b => b.FileName, b => (b.Status, b.FinishedAt), StringComparer.Ordinal);
        }

        var now = time.GetUtcNow();
        var left = 0;
        foreach (var upload in uploads)
        {
            var known = backups.TryGetValue(upload.Key, out var b);
            var reason = ReasonToAbort(known ? b.Status : null, known ? b.FinishedAt : null, upload.Initiated, now);
            if (reason is null)
            {
                left++;
                continue;
            }

            await store.AbortIncompleteUploadAsync(upload, ct);
            aborted.Add($"{store.Name}:{upload.Key} ({reason})");
        }

        return left;
    }
}

/// <summary>Sweeps unfinished uploads at start and after every backup that ends without all its copies, in the
/// background: a stalled S3 service never holds up start-up or the next backup.</summary>
internal sealed class S3UploadLeftoversSweeper(S3UploadLeftovers leftovers, Runs.RunProgressNotifier notifier, ILogger<S3UploadLeftoversSweeper> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private int _requested;
    private int _sweeping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        notifier.Changed += OnBackupChanged;
        Trigger();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        notifier.Changed -= OnBackupChanged;
        await _stopping.CancelAsync();
    }

    private void OnBackupChanged(Runs.RunProgress progress)
    {
        // After a backup that ended (one that lost a copy leaves an upload behind), and when the next one starts (an abort
        // that failed against a stalled service is tried again once it may answer). Another instance sweeps its own.
        if (progress.Kind != Runs.RunKind.Backup || progress.FromOtherInstance)
        {
            return;
        }

        var started = progress.Status == Runs.RunStatus.Running && progress.Phase == nameof(BackupPhase.Connecting);
        if (started || !progress.IsActive)
        {
            Trigger();
        }
    }

    private void Trigger()
    {
        Volatile.Write(ref _requested, 1);
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
        {
            // The running sweep goes round once more.
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref _requested, 0) == 1 && !_stopping.IsCancellationRequested)
                {
                    await leftovers.AbortAsync(_stopping.Token);
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // The console is stopping.
            }
            catch (Exception e)
            {
                logger.LogWarning("Sweeping unfinished S3 uploads failed: {Message}", e.Message);
            }
            finally
            {
                Volatile.Write(ref _sweeping, 0);
            }

            if (Volatile.Read(ref _requested) == 1 && !_stopping.IsCancellationRequested)
            {
                Trigger();
            }
        });
    }
}
