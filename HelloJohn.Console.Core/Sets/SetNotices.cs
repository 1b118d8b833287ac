using System.Globalization;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Notifications;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Sets;

/// <summary>Tells people how a set ended, once for the whole set (its members are not announced one by one): a partial
/// set as <c>set.partial</c> with each failed database and why, a good set as <c>backup.succeeded</c>, a set that kept
/// nothing as <c>backup.failed</c>. Told through the run lifecycle's run-finished hook, whatever ended the set's run (its
/// last member, a Cancel, the sweep after its console instance died). Never throws: the set's outcome is already recorded.</summary>
public sealed class SetNotices(IDbContextFactory<ConsoleDbContext> dbFactory, NotificationCenter center, SetMembers members, ILogger<SetNotices> logger)
    : IRunFinishedHandler
{
    public async Task OnRunFinishedAsync(RunFinished finished, CancellationToken ct)
    {
        if (finished.Kind != RunKind.BackupSet)
        {
            return;
        }

        try
        {
            await RaiseAsync(finished.RunId);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "The notification for the set of run {RunId} could not be raised", finished.RunId);
        }
    }

    private async Task RaiseAsync(Guid runId)
    {
        BackupSet? set;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            set = await db.Set<BackupSet>().AsNoTracking().Include(s => s.Target).FirstOrDefaultAsync(s => s.CurrentRunId == runId);
        }

        if (set is null || set.Status is BackupSetStatus.Queued or BackupSetStatus.Running or BackupSetStatus.Cancelled or BackupSetStatus.Expired)
        {
            return;
        }

        var target = set.Target!.Name;
        var latest = await members.LatestAsync(set.Id, CancellationToken.None);
        var failed = latest.Where(m => !m.Kept).ToList();
        var facts = new Dictionary<string, string>
        {
            ["set"] = set.Name,
            ["status"] = set.Status.ToString(),
            ["trigger"] = set.Trigger.ToString(),
            ["databases"] = latest.Count.ToString(CultureInfo.InvariantCulture),
            ["kept"] = (latest.Count - failed.Count).ToString(CultureInfo.InvariantCulture),
            ["sizeBytes"] = (set.SizeBytes ?? 0).ToString(CultureInfo.InvariantCulture),
        };
        if (failed.Count > 0)
        {
            facts["failed"] = string.Join(",", failed.Select(f => f.Database));
        }

        if (set.GoneDatabases.Count > 0)
        {
            facts["gone"] = string.Join(",", set.GoneDatabases);
        }

        var gone = set.GoneDatabases.Count == 0 ? "" : $" Gone from the server since they were last seen: {string.Join(", ", set.GoneDatabases)}.";
        var e = set.Status switch
        {
            BackupSetStatus.Partial => new NotificationEvent(NotificationEventKind.SetPartial, NotificationSeverity.Warning,
                $"Backup set of {target} partial: {failed.Count} of {latest.Count} database(s) failed", (set.Error ?? "") + gone)
            {
                NotTouched = "The databases were only read; the members that succeeded are kept and restorable, and Retry failed members runs only the others.",
            },
            BackupSetStatus.Failed => new NotificationEvent(NotificationEventKind.BackupFailed, NotificationSeverity.Critical,
                $"Backup set of {target} failed", (set.Error ?? "No database was kept.") + gone)
            {
                NotTouched = "HelloJohn's databases were only read; the sets taken before this one are untouched.",
            },
            _ => new NotificationEvent(NotificationEventKind.BackupSucceeded, set.GoneDatabases.Count > 0 ? NotificationSeverity.Warning : NotificationSeverity.Info,
                $"Backup set of {target} succeeded",
                $"{set.Name}: all {latest.Count} database(s) and the server's roles kept, {RunNotices.FormatBytes(set.SizeBytes ?? 0)}.{gone}"),
        };
        await center.RaiseAsync(e with { TargetId = set.TargetId, TargetName = target, SubjectId = set.Id, LinkPath = ConsoleLinks.Set(set.Id), Facts = facts });
    }
}
