using System.ComponentModel.DataAnnotations;
using HelloJohn.Console.Core.Storage;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Retention;

/// <summary>The retention policy. Days are counted in the console's calendar zone (<c>Schedules:TimeZone</c>).</summary>
public class RetentionOptions
{
    public const string Section = "Retention";

    public RetentionMode Mode { get; set; } = RetentionMode.Tiered;
    [Range(1, 3650)]
    public int Daily { get; set; } = 7;
    [Range(0, 520)]
    public int Weekly { get; set; } = 4;
    [Range(0, 240)]
    public int Monthly { get; set; } = 3;
    [Range(1, 36500)]
    public int KeepDays { get; set; } = 30;
    public DayOfWeek WeeklyOn { get; set; } = DayOfWeek.Sunday;
    /// <summary>Retention__MinimumKept: the newest backups kept whatever their age.</summary>
    [Range(1, 10000, ErrorMessage = "Retention__MinimumKept must be from 1 to 10000: the newest backups kept whatever their age.")]
    public int MinimumKept { get; set; } = 7;

    public RetentionPolicy ToPolicy(IReadOnlyDictionary<BackupTier, IReadOnlyList<string>> tierStores) => new()
    {
        Mode = Mode,
        Daily = Daily,
        Weekly = Weekly,
        Monthly = Monthly,
        KeepDays = KeepDays,
        WeeklyOn = WeeklyOn,
        MinimumKept = MinimumKept,
        TierStores = tierStores,
    };
}

internal sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        try
        {
            options.ToPolicy(new Dictionary<BackupTier, IReadOnlyList<string>>()).EnsureValid();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
