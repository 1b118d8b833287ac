using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Point-in-time recovery: WAL streamed to the console, base backups, retention, alarms. Section <c>Pitr</c>
/// (environment: <c>Pitr__Key</c>).</summary>
public sealed class PitrOptions
{
    public const string Section = "Pitr";

    /// <summary>Pitr__Enabled: stream WAL from every self-managed target. On by default for the embedded default; off
    /// otherwise, because a replication slot makes the server keep WAL for the console.</summary>
    public bool Enabled { get; set; }

    /// <summary>Pitr__ReplicationUrl (or HELLOJOHN_REPLICATION_URL): a role with REPLICATION for the target from
    /// HELLOJOHN_DATABASE_URL, when that role has none. Default: HelloJohn's own connection.</summary>
    public string? ReplicationUrl { get; set; }

    /// <summary>Pitr__WorkDirectory: where WAL arrives before it is archived, and base backups are staged (in the
    /// process's own 0700 folder there, removed at the next start when the process died). Default <c>{data}/pitr</c>.</summary>
    public string WorkDirectory { get; set; } = "";

    /// <summary>Pitr__SlotPrefix: the replication slot is named prefix + the target's id.</summary>
    [RegularExpression("^[a-z0-9_]{1,30}$", ErrorMessage = "Pitr__SlotPrefix may hold lower-case letters, digits and _ only (1 to 30 of them).")]
    public string SlotPrefix { get; set; } = "hellojohn_console_";

    /// <summary>Pitr__Synchronous: pg_receivewal flushes every write at once (<c>--synchronous</c>); the RPO is then
    /// the network delay, not the status interval. See docs/benchmarks.md.</summary>
    public bool Synchronous { get; set; } = true;

    /// <summary>Pitr__StatusInterval: pg_receivewal's status packets to the server.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Pitr__ArchiveInterval: how often arrived WAL is looked at (archived, its newest commit read).</summary>
    public TimeSpan ArchiveInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Pitr__PartialCopyInterval: how often the segment still being written is copied to the stores.</summary>
    public TimeSpan PartialCopyInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Pitr__RestartDelay and Pitr__MaxRestartDelay: a receiver that died is restarted after the first, then
    /// twice as long each time up to the second.</summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRestartDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Pitr__SupervisorInterval: how often this instance looks for servers whose receiver runs nowhere.</summary>
    public TimeSpan SupervisorInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Pitr__SlotAlarmBytes: a slot that makes the server keep more WAL than this raises the alarm.</summary>
    [Range(16L * 1024 * 1024, long.MaxValue, ErrorMessage = "Pitr__SlotAlarmBytes must be at least one WAL segment (16777216).")]
    public long SlotAlarmBytes { get; set; } = 1L << 30;

    /// <summary>Pitr__StreamingAlarmAfter: a server whose WAL has not streamed for this long (its receiver restarting or
    /// stopped, not paused by an administrator) raises <c>wal.streaming_stopped</c>; shorter outages are restarts only.</summary>
    public TimeSpan StreamingAlarmAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Pitr__WalCompressionLevel: zstd level of archived segments (1–19).</summary>
    [Range(1, 19, ErrorMessage = "Pitr__WalCompressionLevel must be between 1 and 19.")]
    public int WalCompressionLevel { get; set; } = 3;

    /// <summary>Pitr__BaseBackupCron: when a new base backup is taken (cron, in UTC). Empty: only on demand and when the
    /// window must restart.</summary>
    public string? BaseBackupCron { get; set; } = "0 1 * * *";

    /// <summary>Pitr__KeepBaseBackups: the newest this many base backups are always kept.</summary>
    [Range(1, 1000, ErrorMessage = "Pitr__KeepBaseBackups must be between 1 and 1000.")]
    public int KeepBaseBackups { get; set; } = 2;

    /// <summary>Pitr__BaseBackupMaxAge: older base backups beyond the kept count are removed, and WAL older than the
    /// oldest kept one with them.</summary>
    public TimeSpan BaseBackupMaxAge { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Cross-field rules; each error names the variable to fix.</summary>
internal sealed class PitrOptionsValidator : IValidateOptions<PitrOptions>
{
    public ValidateOptionsResult Validate(string? name, PitrOptions o)
    {
        var errors = new List<string>();
        void Positive(TimeSpan value, string key, TimeSpan max)
        {
            if (value <= TimeSpan.Zero || value > max)
            {
                errors.Add($"Pitr__{key} must be more than 0 and at most {max:c}.");
            }
        }

        Positive(o.StatusInterval, nameof(o.StatusInterval), TimeSpan.FromMinutes(10));
        Positive(o.ArchiveInterval, nameof(o.ArchiveInterval), TimeSpan.FromMinutes(1));
        Positive(o.PartialCopyInterval, nameof(o.PartialCopyInterval), TimeSpan.FromHours(1));
        Positive(o.RestartDelay, nameof(o.RestartDelay), TimeSpan.FromMinutes(10));
        Positive(o.SupervisorInterval, nameof(o.SupervisorInterval), TimeSpan.FromMinutes(10));
        Positive(o.StreamingAlarmAfter, nameof(o.StreamingAlarmAfter), TimeSpan.FromDays(1));
        if (o.MaxRestartDelay < o.RestartDelay || o.MaxRestartDelay > TimeSpan.FromHours(1))
        {
            errors.Add("Pitr__MaxRestartDelay must be at least Pitr__RestartDelay and at most 01:00:00.");
        }

        if (o.BaseBackupMaxAge < TimeSpan.FromHours(1))
        {
            errors.Add("Pitr__BaseBackupMaxAge must be at least 01:00:00 (a shorter window is no point-in-time recovery).");
        }

        if (!string.IsNullOrWhiteSpace(o.BaseBackupCron) && !Schedules.CronSchedule.TryParse(o.BaseBackupCron, out _, out var cronError))
        {
            errors.Add($"Pitr__BaseBackupCron is not a cron expression ({cronError}); for example 0 1 * * * (01:00 UTC every day), or empty for none.");
        }

        if (!string.IsNullOrWhiteSpace(o.ReplicationUrl))
        {
            try
            {
                Postgres.PgConnection.Parse(o.ReplicationUrl);
            }
            catch (FormatException e)
            {
                errors.Add($"Pitr__ReplicationUrl (HELLOJOHN_REPLICATION_URL) is not a usable connection string: {e.Message}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
