using System.Globalization;
using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Core.Retention;

/// <summary>Decides, without side effects, which backups to keep, which to expire and why.</summary>
/// <remarks>
/// Days, weeks and months are calendar periods in the configured time zone, so a backup at 00:30 local time belongs
/// to that local day whatever its UTC offset, across DST changes too. Every succeeded backup of the daily window is
/// kept, however many a day has: one taken "before the risky change" never goes because another followed. Weekly and
/// monthly slots take one backup each: the most complete of the period (held in every store of its tier, then complete
/// in more tiers), the first of them when several are equal. "First" keeps the choice stable: a later backup in the
/// same week or month never displaces one already copied to the weekly or monthly store. Whatever their age, the newest
/// <see cref="RetentionPolicy.MinimumKept"/> backups and the newest verified one stay, and so does a partially stored
/// backup that Retry upload can still complete.
/// </remarks>
public static class RetentionPlanner
{
    private const RetentionReasons HoldEverywhere =
        RetentionReasons.Pinned | RetentionReasons.NewestVerified | RetentionReasons.NewestBackup | RetentionReasons.LatestRunFailed | RetentionReasons.AwaitingRetry;

    public static RetentionPlan Plan(IReadOnlyList<RetentionCandidate> backups, DateTimeOffset now, RetentionPolicy policy, TimeZoneInfo zone)
    {
        policy.EnsureValid();
        if (backups.Select(b => b.Id).Distinct().Count() != backups.Count)
        {
            throw new ArgumentException("Each backup may appear only once in a retention plan.", nameof(backups));
        }

        var reasons = backups.ToDictionary(b => b.Id, _ => new List<(RetentionReasons Reason, string Text)>());
        var localDate = backups.ToDictionary(b => b.Id, b => LocalDate(b.CreatedAt, zone));
        var succeeded = backups.Where(b => b.Status == RetentionCandidateStatus.Succeeded)
            .OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id).ToList();

        // A running backup is not "the latest run" yet: the safety rule looks at the newest finished one.
        var latestRun = backups.Where(b => b.Status != RetentionCandidateStatus.Running).MaxBy(b => b.CreatedAt);
        var safetyHold = latestRun?.Status == RetentionCandidateStatus.Failed;
        var today = LocalDate(now, zone);

        if (policy.Mode == RetentionMode.Tiered)
        {
            var firstDay = today.AddDays(1 - policy.Daily);
            foreach (var b in succeeded.Where(b => localDate[b.Id] >= firstDay))
            {
                reasons[b.Id].Add((RetentionReasons.Daily, $"taken within the daily window (every backup of the last {policy.Daily} days, since {Day(firstDay)})"));
            }

            var completeness = new SlotCompleteness(policy);
            FillSlots(succeeded, policy.Weekly, b => WeekStart(localDate[b.Id], policy.WeeklyOn).DayNumber, b => completeness.Of(b, BackupTier.Weekly), reasons, RetentionReasons.Weekly,
                (b, i) => $"weekly backup of the week from {Day(WeekStart(localDate[b.Id], policy.WeeklyOn))} ({i} of {policy.Weekly})");
            FillSlots(succeeded, policy.Monthly, b => (localDate[b.Id].Year * 12) + localDate[b.Id].Month, b => completeness.Of(b, BackupTier.Monthly), reasons, RetentionReasons.Monthly,
                (b, i) => $"monthly backup of {localDate[b.Id].ToString("MMMM yyyy", CultureInfo.InvariantCulture)} ({i} of {policy.Monthly})");
        }
        else
        {
            var firstKeptDay = today.AddDays(1 - policy.KeepDays);
            foreach (var b in succeeded.Where(b => localDate[b.Id] >= firstKeptDay))
            {
                reasons[b.Id].Add((RetentionReasons.WithinDays, $"taken within the last {policy.KeepDays} days"));
            }
        }

        if (succeeded.FirstOrDefault() is { } newest && reasons[newest.Id].Count == 0)
        {
            reasons[newest.Id].Add((RetentionReasons.NewestBackup, "newest successful backup: the latest one is never expired"));
        }

        foreach (var b in succeeded.Take(policy.MinimumKept).Where(b => reasons[b.Id].Count == 0))
        {
            reasons[b.Id].Add((RetentionReasons.MinimumCount, $"one of the newest {policy.MinimumKept} backups, kept whatever their age"));
        }

        if (succeeded.FirstOrDefault(b => b.Verified) is { } newestVerified)
        {
            reasons[newestVerified.Id].Add((RetentionReasons.NewestVerified,
                $"newest backup that passed a restore verification ({newestVerified.LastVerifiedAt!.Value.ToUniversalTime():yyyy-MM-dd HH:mm} UTC)"));
        }

        foreach (var b in succeeded.Where(b => b.Pinned))
        {
            reasons[b.Id].Add((RetentionReasons.Pinned, "pinned"));
        }

        foreach (var b in succeeded.Where(b => AwaitsRetry(b, policy)))
        {
            var missing = StoresOf(policy, BackupTier.Daily).Where(s => !b.Stores.Contains(s)).ToList();
            reasons[b.Id].Add((RetentionReasons.AwaitingRetry, missing.Count == 0
                ? "partially stored: kept until Retry upload completes it"
                : $"partially stored (not yet in {string.Join(", ", missing)}): kept until Retry upload completes it"));
        }

        var decisions = new List<RetentionDecision>();
        foreach (var b in backups.OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id))
        {
            var own = reasons[b.Id];
            switch (b.Status)
            {
                case RetentionCandidateStatus.Running:
                    own.Insert(0, (RetentionReasons.InProgress, "backup in progress"));
                    break;
                case RetentionCandidateStatus.Failed:
                    own.Add((RetentionReasons.FailedRun, "failed run: it holds no backup file; the record stays for history"));
                    break;
                case RetentionCandidateStatus.Succeeded when own.Count == 0 && safetyHold:
                    own.Add((RetentionReasons.LatestRunFailed, "the latest backup run failed, so nothing expires until a backup succeeds again"));
                    break;
                case RetentionCandidateStatus.Succeeded when own.Count == 0:
                    own.Add((RetentionReasons.Expired, policy.Mode == RetentionMode.KeepDays
                        ? $"older than {policy.KeepDays} days and not among the newest {policy.MinimumKept}"
                        : $"older than the {policy.Daily}-day daily window, not the weekly or monthly backup kept for its period, and not among the newest {policy.MinimumKept}"));
                    break;
            }

            var flags = own.Aggregate(RetentionReasons.None, (all, r) => all | r.Reason);
            var verdict = flags.HasFlag(RetentionReasons.FailedRun) ? RetentionVerdict.NotABackup
                : flags.HasFlag(RetentionReasons.Expired) ? RetentionVerdict.Expire
                : RetentionVerdict.Keep;
            var text = (verdict == RetentionVerdict.Expire ? "Expired: " : verdict == RetentionVerdict.Keep ? "Kept: " : "")
                + string.Join("; ", own.Select(r => r.Text));
            decisions.Add(new RetentionDecision(b.Id, b.CreatedAt, localDate[b.Id], verdict, flags, Capitalize(text)) { FileName = b.FileName });
        }

        var (copies, prunes) = PlanTierStores(backups.ToDictionary(b => b.Id), decisions, policy, safetyHold);
        return new RetentionPlan(now, zone.Id, policy, safetyHold, decisions, copies, prunes);
    }

    private static void FillSlots(
        List<RetentionCandidate> newestFirst,
        int slots,
        Func<RetentionCandidate, int> period,
        Func<RetentionCandidate, (int, int, int, int)> completeness,
        Dictionary<Guid, List<(RetentionReasons, string)>> reasons,
        RetentionReasons reason,
        Func<RetentionCandidate, int, string> describe)
    {
        var chosen = newestFirst
            .GroupBy(period)
            .OrderByDescending(g => g.Key)
            .Take(slots)
            .Select(g => g.OrderByDescending(completeness).ThenBy(b => b.CreatedAt).ThenBy(b => b.Id).First());
        var index = 1;
        foreach (var b in chosen)
        {
            reasons[b.Id].Add((reason, describe(b, index++)));
        }
    }

    /// <summary>A partially stored backup that a configured store still holds, missing from a daily store: Retry upload
    /// can complete it, so it is not retention's to delete. Without a store layout, every partial one counts.</summary>
    private static bool AwaitsRetry(RetentionCandidate b, RetentionPolicy policy)
    {
        if (!b.PartiallyStored)
        {
            return false;
        }

        var configured = policy.TierStores.Values.SelectMany(s => s).ToHashSet(StringComparer.Ordinal);
        return configured.Count == 0
            || (b.Stores.Any(configured.Contains) && StoresOf(policy, BackupTier.Daily).Any(s => !b.Stores.Contains(s)));
    }

    /// <summary>How complete a backup is for a slot of one tier, compared highest first: held in every store of that
    /// tier; complete in more tiers; not partially stored; held in more configured stores.</summary>
    private sealed class SlotCompleteness(RetentionPolicy policy)
    {
        private readonly HashSet<string> _configured = policy.TierStores.Values.SelectMany(s => s).ToHashSet(StringComparer.Ordinal);

        public (int, int, int, int) Of(RetentionCandidate b, BackupTier tier) =>
        (
            HoldsTier(b, tier) ? 1 : 0,
            Enum.GetValues<BackupTier>().Count(t => HoldsTier(b, t)),
            b.PartiallyStored ? 0 : 1,
            b.Stores.Count(_configured.Contains)
        );

        private bool HoldsTier(RetentionCandidate b, BackupTier tier) =>
            StoresOf(policy, tier) is { Count: > 0 } stores && stores.All(b.Stores.Contains);
    }

    private static (List<RetentionCopy>, List<RetentionPrune>) PlanTierStores(
        Dictionary<Guid, RetentionCandidate> byId, List<RetentionDecision> decisions, RetentionPolicy policy, bool safetyHold)
    {
        var copies = new List<RetentionCopy>();
        var prunes = new List<RetentionPrune>();
        if (policy.TierStores.Count == 0)
        {
            return (copies, prunes);
        }

        foreach (var d in decisions.Where(d => d.Verdict == RetentionVerdict.Keep && byId[d.BackupId].Status == RetentionCandidateStatus.Succeeded))
        {
            var held = byId[d.BackupId].Stores;
            var tiers = new List<BackupTier>();
            if ((d.Reasons & (RetentionReasons.Daily | RetentionReasons.WithinDays)) != 0)
            {
                tiers.Add(BackupTier.Daily);
            }

            if (d.Reasons.HasFlag(RetentionReasons.Weekly))
            {
                tiers.Add(BackupTier.Weekly);
            }

            if (d.Reasons.HasFlag(RetentionReasons.Monthly))
            {
                tiers.Add(BackupTier.Monthly);
            }

            // Daily copies that are missing are the backup pipeline's retry to make, from the local copy. A store that
            // serves both the weekly and the monthly tier (neither has stores of its own) gets one copy, not two.
            var planned = new HashSet<string>(StringComparer.Ordinal);
            foreach (var tier in tiers.Where(t => t != BackupTier.Daily))
            {
                foreach (var store in StoresOf(policy, tier).Where(s => !held.Contains(s) && planned.Add(s)))
                {
                    copies.Add(new RetentionCopy(d.BackupId, tier, store));
                }
            }

            // Pinned, newest and held-back backups stay wherever they are; others leave stores none of their tiers use.
            if (safetyHold || (d.Reasons & HoldEverywhere) != 0 || tiers.Count == 0)
            {
                continue;
            }

            var needed = tiers.SelectMany(t => StoresOf(policy, t)).ToHashSet(StringComparer.Ordinal);
            if (needed.Count == 0)
            {
                continue;
            }

            foreach (var store in held.Where(s => !needed.Contains(s)))
            {
                prunes.Add(new RetentionPrune(d.BackupId, store,
                    $"kept as {string.Join(" and ", tiers.Select(t => t.Name()))} in {string.Join(", ", needed.Order(StringComparer.Ordinal))}; store '{store}' no longer needs it"));
            }
        }

        return (copies, prunes);
    }

    private static IReadOnlyList<string> StoresOf(RetentionPolicy policy, BackupTier tier) =>
        policy.TierStores.TryGetValue(tier, out var stores) ? stores : [];

    internal static DateOnly LocalDate(DateTimeOffset instant, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);

    private static DateOnly WeekStart(DateOnly day, DayOfWeek first) =>
        day.AddDays(-(((int)day.DayOfWeek - (int)first + 7) % 7));

    private static string Day(DateOnly day) => day.ToString("ddd d MMM yyyy", CultureInfo.InvariantCulture);

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
