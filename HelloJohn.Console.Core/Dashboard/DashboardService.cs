using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Dashboard;

public sealed record DashboardSummary(
    DateTimeOffset MeasuredAt,
    string? TargetName,
    string? TargetAddress,
    Guid? LastSuccessId,
    DateTimeOffset? LastSuccessAt,
    string? LastSuccessFile,
    long? LastSuccessSize,
    TimeSpan? LastSuccessDuration,
    TimeSpan? RpoNow,
    DateTimeOffset? LastFailureAt,
    string? LastFailureError,
    bool LatestRunFailed,
    int SucceededCount,
    long StorageUsedBytes,
    int ActiveCount,
    DashboardVerification? LastVerification,
    bool AnyBackupEver);

/// <summary>The newest verification of the dashboard's target.</summary>
public sealed record DashboardVerification(VerificationStatus Status, string BackupFileName, DateTimeOffset At, TimeSpan? Duration)
{
    public bool IsActive => Status is VerificationStatus.Queued or VerificationStatus.Running;
}

/// <summary>The figures on the dashboard, aggregated in the database (never by loading the catalog into memory).</summary>
public sealed class DashboardService(IDbContextFactory<ConsoleDbContext> dbFactory, TimeProvider time)
{
    /// <summary>The default target's figures (the one from the environment, else the first by name).</summary>
    public Task<DashboardSummary> GetAsync(CancellationToken ct) => GetAsync(null, ct);

    /// <summary>The figures of <paramref name="targetId"/>, or of the default target when null. Every figure is that
    /// target's own, its last verification included.</summary>
    public async Task<DashboardSummary> GetAsync(Guid? targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var targets = db.Targets.AsNoTracking();
        var target = targetId is { } id
            ? await targets.FirstOrDefaultAsync(t => t.Id == id, ct)
            : await targets.OrderBy(t => t.ConnectionSource).ThenBy(t => t.Name).FirstOrDefaultAsync(ct);
        var backups = db.Backups.AsNoTracking().Where(b => target == null || b.TargetId == target.Id);
        var lastSuccess = await backups.Where(b => b.Status == BackupStatus.Succeeded).OrderByDescending(b => b.StartedAt)
            .Select(b => new { b.Id, b.StartedAt, b.FinishedAt, b.FileName, b.SizeBytes }).FirstOrDefaultAsync(ct);
        var lastFailure = await backups.Where(b => b.Status == BackupStatus.Failed).OrderByDescending(b => b.CreatedAt)
            .Select(b => new { b.CreatedAt, b.Error }).FirstOrDefaultAsync(ct);
        var latestEnded = await backups.Where(b => b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.Failed)
            .OrderByDescending(b => b.CreatedAt).Select(b => b.Status).FirstOrDefaultAsync(ct);
        var succeeded = await backups.CountAsync(b => b.Status == BackupStatus.Succeeded, ct);
        var used = await backups.Where(b => b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored).SumAsync(b => (long?)b.SizeBytes, ct) ?? 0;
        var active = await backups.CountAsync(b => b.Status == BackupStatus.Queued || b.Status == BackupStatus.Running, ct);
        var lastVerification = target is null ? null : await db.Set<VerificationRun>().AsNoTracking()
            .Where(r => r.Run!.TargetId == target.Id)
            .OrderByDescending(r => r.Run!.CreatedAt)
            .Select(r => new { r.Run!.Status, r.BackupFileName, r.Run.CreatedAt, r.Run.StartedAt, r.Run.FinishedAt })
            .FirstOrDefaultAsync(ct);
        var any = lastSuccess is not null || lastFailure is not null || active > 0 || await backups.AnyAsync(ct);

        return new DashboardSummary(
            now,
            target?.Name,
            target?.DisplayAddress,
            lastSuccess?.Id,
            lastSuccess?.StartedAt,
            lastSuccess?.FileName,
            lastSuccess?.SizeBytes,
            lastSuccess is { StartedAt: { } s, FinishedAt: { } f } ? f - s : null,
            // Data written after the snapshot of the newest good backup would be lost: RPO counts from its start.
            lastSuccess?.StartedAt is { } started ? now - started : null,
            lastFailure?.CreatedAt,
            lastFailure?.Error,
            latestEnded == BackupStatus.Failed,
            succeeded,
            used,
            active,
            lastVerification is null ? null : new DashboardVerification((VerificationStatus)lastVerification.Status, lastVerification.BackupFileName,
                lastVerification.FinishedAt ?? lastVerification.CreatedAt,
                lastVerification is { StartedAt: { } vs, FinishedAt: { } vf } ? vf - vs : null),
            any);
    }
}
