using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Schedules;

/// <summary>Defaults for new schedules, and the console's calendar zone: when schedules fire and which local day a
/// backup belongs to for retention.</summary>
public class ScheduleOptions
{
    public const string Section = "Schedules";

    /// <summary>IANA time zone id, e.g. <c>Europe/Berlin</c>.</summary>
    public string TimeZone { get; set; } = "Etc/UTC";
    public string BackupCron { get; set; } = "0 2 * * *";
    public string VerificationCron { get; set; } = "0 4 * * 0";
    public string RetentionCron { get; set; } = "30 3 * * *";
    public string JwksCheckCron { get; set; } = "0 * * * *";
    /// <summary>A recovery drill (restore of the newest backup into a scratch database, checks, RTO measured), by
    /// default at 05:00 on the 1st of every month, after the night's backup and retention.</summary>
    public string DrillCron { get; set; } = "0 5 1 * *";

    public TimeZoneInfo Zone() => CronSchedule.FindZone(TimeZone) ?? TimeZoneInfo.Utc;

    public string DefaultCron(ScheduleKind kind) => kind switch
    {
        ScheduleKind.Backup => BackupCron,
        ScheduleKind.Verification => VerificationCron,
        ScheduleKind.Retention => RetentionCron,
        ScheduleKind.Drill => DrillCron,
        _ => JwksCheckCron,
    };
}

internal sealed class ScheduleOptionsValidator : IValidateOptions<ScheduleOptions>
{
    public ValidateOptionsResult Validate(string? name, ScheduleOptions options)
    {
        var errors = new List<string>();
        if (CronSchedule.FindZone(options.TimeZone) is null)
        {
            errors.Add($"Schedules__TimeZone: '{options.TimeZone}' is not a known time zone; use an IANA id such as Europe/Berlin or Etc/UTC.");
        }

        foreach (var kind in Enum.GetValues<ScheduleKind>())
        {
            if (CronSchedule.TryParse(options.DefaultCron(kind), out _, out var error) is false)
            {
                errors.Add($"Schedules__{kind}Cron: {error}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
