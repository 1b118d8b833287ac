using System.Globalization;
using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Secrets.Jwks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>Events about standing conditions rather than runs: the signing key against the live JWKS, retention's
/// safety net holding the last verified backup, storage failing under retention, and the RPO watch. Conditions repeat at
/// most once per <see cref="NotificationOptions.RepeatAfter"/>. Nothing here throws into its caller.</summary>
public sealed partial class ConditionNotices(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    NotificationCenter center,
    IOptionsMonitor<NotificationOptions> options,
    TimeProvider time,
    ILogger<ConditionNotices> logger)
{
    /// <summary>After a JWKS check: a mismatch means tokens HelloJohn signs could not be verified after a restore with
    /// the escrowed key.</summary>
    public async Task JwksCheckedAsync(JwksCheck check)
    {
        if (check.Outcome != JwksCheckOutcome.Mismatch)
        {
            return;
        }

        string target;
        try
        {
            target = await TargetNameAsync(check.TargetId);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "The JWKS mismatch notification for target {TargetId} could not be raised", check.TargetId);
            return;
        }

        await center.RaiseAsync(new NotificationEvent(NotificationEventKind.SigningKeyMismatch, NotificationSeverity.Critical,
            $"Signing key of {target} differs from the live JWKS", check.Detail)
        {
            TargetId = check.TargetId, TargetName = target, SubjectId = check.Id, LinkPath = "/keys", DedupeKey = $"jwks-mismatch:{check.TargetId:N}",
            NotTouched = "Neither HelloJohn nor the escrowed key was changed. Escrow the key HelloJohn uses now under Keys & secrets.",
            Facts = RunNotices.Facts(("escrowedFingerprint", check.EscrowedFingerprint), ("publishedFingerprints", check.PublishedFingerprints), ("jwksUrl", check.JwksUrl)),
        });
    }

    /// <summary>After retention ran: storage that failed under it, and the newest verified backup kept by the safety
    /// rule alone (the policy would remove it; no other verified backup stands behind it).</summary>
    public async Task RetentionAppliedAsync(RetentionRunResult result, string targetName)
    {
        try
        {
            foreach (var error in result.Errors.Where(e => result.Ran))
            {
                var store = StoreName().Match(error) is { Success: true } m ? m.Groups[1].Value : "unknown";
                await center.RaiseAsync(new NotificationEvent(NotificationEventKind.StorageTierFailing, NotificationSeverity.Warning,
                    $"Storage '{store}' failed during retention of {targetName}", error)
                {
                    TargetId = result.TargetId, TargetName = targetName, Store = store, LinkPath = "/schedules", Facts = RunNotices.Facts(("store", store)),
                    NotTouched = "Retention left every other copy as it was; it tries again on its next run.",
                });
            }

            var held = result.Plan?.Decisions.FirstOrDefault(d => d.Reasons.HasFlag(RetentionReasons.NewestVerified));
            const RetentionReasons otherwiseKept = RetentionReasons.Daily | RetentionReasons.Weekly | RetentionReasons.Monthly | RetentionReasons.WithinDays
                | RetentionReasons.Pinned | RetentionReasons.NewestBackup | RetentionReasons.MinimumCount | RetentionReasons.AwaitingRetry;
            if (held is not null && (held.Reasons & otherwiseKept) == 0)
            {
                await center.RaiseAsync(new NotificationEvent(NotificationEventKind.RetentionLastVerifiedAtRisk, NotificationSeverity.Warning,
                    $"Retention is about to remove the last verified backup of {targetName}",
                    $"{held.FileName} is the newest backup of {targetName} that passed a verification, and the retention policy no longer keeps it: only the rule that never expires the newest verified backup holds it. Verify a newer backup so the policy can let it go.")
                {
                    TargetId = result.TargetId, TargetName = targetName, SubjectId = held.BackupId, LinkPath = ConsoleLinks.Backup(held.BackupId),
                    DedupeKey = $"retention-last-verified:{held.BackupId:N}", Facts = RunNotices.Facts(("file", held.FileName)),
                    NotTouched = "Nothing was deleted: the backup stays until a newer one passes a verification.",
                });
            }
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Retention notifications for {Target} could not be raised", targetName);
        }
    }

    /// <summary>The periodic watch: RPO of every target against <see cref="NotificationOptions.RpoThreshold"/>.</summary>
    public async Task CheckRpoAsync(CancellationToken ct)
    {
        var threshold = options.CurrentValue.RpoThreshold;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var targets = await db.Targets.AsNoTracking()
            .Select(t => new
            {
                t.Id,
                t.Name,
                t.CreatedAt,
                // As the dashboard and /metrics count it: the newest backup that succeeded in every store.
                LastGood = db.Backups.Where(b => b.TargetId == t.Id && b.Status == BackupStatus.Succeeded).Max(b => b.StartedAt),
            })
            .ToListAsync(ct);
        foreach (var t in targets)
        {
            var since = t.LastGood ?? t.CreatedAt;
            var rpo = now - since;
            if (rpo <= threshold)
            {
                continue;
            }

            await center.RaiseAsync(new NotificationEvent(NotificationEventKind.RpoAboveThreshold, NotificationSeverity.Critical,
                $"RPO of {t.Name} is {RecoveryDurations.Describe(rpo)}, above {RecoveryDurations.Describe(threshold)}",
                t.LastGood is null
                    ? $"{t.Name} has no good backup at all (protected since {t.CreatedAt:u}). A failure now would lose everything since then."
                    : $"The newest good backup of {t.Name} started {t.LastGood:u}: a failure now would lose {RecoveryDurations.Describe(rpo)} of data. Check the backup schedule and the last backups' errors.")
            {
                TargetId = t.Id, TargetName = t.Name, LinkPath = "/backups", DedupeKey = $"rpo:{t.Id:N}",
                Facts = RunNotices.Facts(("rpoSeconds", rpo.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)), ("thresholdSeconds", threshold.TotalSeconds.ToString("0", CultureInfo.InvariantCulture))),
                NotTouched = "Nothing was run or changed; this is a warning.",
            }, ct);
        }
    }

    private async Task<string> TargetNameAsync(Guid targetId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        return await db.Targets.Where(t => t.Id == targetId).Select(t => t.Name).FirstOrDefaultAsync() ?? "the target";
    }

    [GeneratedRegex("store '([^']+)'")]
    private static partial Regex StoreName();
}
