using HelloJohn.Console.Core.Storage;

namespace HelloJohn.Console.Core.Retention;

public enum RetentionMode
{
    /// <summary>The recommended policy: every backup of the last N days, then the first of each of the last N weeks
    /// (normally Sunday's) and the first of each of the last N months (normally the 1st's).</summary>
    Tiered,
    /// <summary>Every backup of the last N calendar days, as the seed's <c>find -mtime +30 -delete</c> cron does.</summary>
    KeepDays,
}

/// <summary>What retention keeps. Weekly and monthly slots count only succeeded backups and are filled from the newest
/// period backwards, so a gap keeps older backups longer instead of leaving the slot empty; whatever their age, the
/// newest <see cref="MinimumKept"/> backups stay.</summary>
public sealed record RetentionPolicy
{
    public static RetentionPolicy Recommended { get; } = new();

    public RetentionMode Mode { get; init; } = RetentionMode.Tiered;
    /// <summary>The daily window in calendar days: every backup taken in it is kept, however many there are.</summary>
    public int Daily { get; init; } = 7;
    public int Weekly { get; init; } = 4;
    public int Monthly { get; init; } = 3;
    public int KeepDays { get; init; } = 30;
    /// <summary>The newest backups kept whatever their age (backups that stopped, a long outage): never fewer than this.</summary>
    public int MinimumKept { get; init; } = 7;
    /// <summary>The day a week starts on: the weekly backup is the first of the week, so normally that day's.</summary>
    public DayOfWeek WeeklyOn { get; init; } = DayOfWeek.Sunday;

    /// <summary>Tier → the stores that must hold it. Empty: plan no copies and no removals of single copies.</summary>
    public IReadOnlyDictionary<BackupTier, IReadOnlyList<string>> TierStores { get; init; } = new Dictionary<BackupTier, IReadOnlyList<string>>();

    public static RetentionPolicy KeepDaysPolicy(int days = 30) => new() { Mode = RetentionMode.KeepDays, KeepDays = days };

    public string Describe() => (Mode == RetentionMode.KeepDays
            ? $"every backup of the last {KeepDays} days"
            : $"every backup of the last {Daily} days, then {Weekly} weekly ({WeeklyOn}s) and {Monthly} monthly (1st of the month) backups")
        + $", never fewer than the newest {MinimumKept} whatever their age, and always the newest verified one";

    /// <summary>Throws with a message naming the setting when the policy could expire every backup or makes no sense.</summary>
    public void EnsureValid()
    {
        if (Mode == RetentionMode.Tiered && Daily < 1)
        {
            throw new ArgumentException($"Retention__Daily must be at least 1 (it is {Daily}): the newest backups must be kept.");
        }

        if (MinimumKept < 1)
        {
            throw new ArgumentException($"Retention__MinimumKept must be at least 1 (it is {MinimumKept}): the newest backup is never expired.");
        }

        if (Weekly < 0 || Monthly < 0)
        {
            throw new ArgumentException($"Retention__Weekly and Retention__Monthly cannot be negative (they are {Weekly} and {Monthly}).");
        }

        if (Mode == RetentionMode.KeepDays && KeepDays < 1)
        {
            throw new ArgumentException($"Retention__KeepDays must be at least 1 (it is {KeepDays}).");
        }
    }
}
