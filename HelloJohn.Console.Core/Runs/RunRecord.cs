using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Runs;

/// <summary>The lifecycle of one long job, whatever its kind: who asked, when it was queued, started and ended, how
/// it ended and why, and which console instance executes it now. What a kind learns while it works (a backup's file,
/// a restore's row counts) stays in that kind's own table under the same id.</summary>
public class RunRecord
{
    public Guid Id { get; set; }
    public RunKind Kind { get; set; }
    /// <summary>The target the run works for; null for a kind of run that has none.</summary>
    public Guid? TargetId { get; set; }
    public BackupTarget? Target { get; set; }
    public RunStatus Status { get; set; }
    /// <summary>Where the run is, in its kind's words (a restore's "Restoring", a wizard's current step).</summary>
    public string? Phase { get; set; }
    public string? RequestedBy { get; set; }
    public string? RequestedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? JobId { get; set; }
    /// <summary>Why it did not succeed, for people; null when it did.</summary>
    public string? Error { get; set; }
    /// <summary>What kind of failure it was, as data (the recovery wizards find the incident time by it).</summary>
    public RunFailureKind? FailureKind { get; set; }

    /// <summary>The console instance executing the run's work right now (or, once it ended, the last one that did); null
    /// while nothing executes it (queued, or a wizard waiting for a person).</summary>
    public Guid? OwnerInstanceId { get; set; }
    public string? OwnerHost { get; set; }
    public int? OwnerProcessId { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }
    public DateTimeOffset? CancelRequestedAt { get; set; }
    public string? CancelRequestedBy { get; set; }
    /// <summary>Progress in the kind's unit (bytes written, tables loaded), kept with the heartbeat.</summary>
    public long ProgressDone { get; set; }
    public long? ProgressTotal { get; set; }

    public bool IsActive => Status is RunStatus.Queued or RunStatus.Running;
    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
}

/// <summary>What a run does. Adding a kind: a value here, its work, and its <see cref="IRunKind"/> (how it is named and
/// what is cleaned up when its owner dies).</summary>
public enum RunKind
{
    Backup,
    Verification,
    Restore,
    Recovery,
    /// <summary>A set of a deployment: looks at its server, keeps its roles and queues one backup per database.</summary>
    BackupSet,
    /// <summary>A pg_basebackup of a server streaming WAL (point-in-time recovery); its catalog entry is a BaseBackupRecord.</summary>
    BaseBackup,
    /// <summary>A restore to a point in time into a new data directory, with the PostgreSQL server it starts there.</summary>
    PitrRestore,
}

public enum RunStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>Why a run failed, as data rather than as words in its error.</summary>
public enum RunFailureKind
{
    /// <summary>The target database did not answer (refused, timed out, unknown host).</summary>
    TargetUnreachable,
    /// <summary>The target answered but refused: wrong password, missing database, missing permission.</summary>
    TargetRefused,
    /// <summary>No store kept the file (full disk, unwritable folder, S3 refused).</summary>
    Storage,
    /// <summary>A PostgreSQL program (pg_dump, pg_restore) failed.</summary>
    Tool,
    /// <summary>The backup file failed a check before anything was written.</summary>
    ArchiveCheck,
    /// <summary>Restored, but the row counts differ from the manifest.</summary>
    CountsDiffer,
    /// <summary>The console instance that ran it stopped before it finished.</summary>
    OwnerLost,
    /// <summary>Another run held what this one needed (the same database, the same target).</summary>
    Busy,
    /// <summary>Anything else; the error says what.</summary>
    Unexpected,
}

internal sealed class RunRecordConfiguration : IEntityTypeConfiguration<RunRecord>
{
    public void Configure(EntityTypeBuilder<RunRecord> e)
    {
        e.ToTable("runs");
        e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Phase).HasMaxLength(64);
        e.Property(x => x.RequestedBy).HasMaxLength(256);
        e.Property(x => x.RequestedByUserId).HasMaxLength(450);
        e.Property(x => x.JobId).HasMaxLength(64);
        e.Property(x => x.Error).HasMaxLength(4000);
        e.Property(x => x.FailureKind).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.OwnerHost).HasMaxLength(256);
        e.Property(x => x.CancelRequestedBy).HasMaxLength(256);
        e.Ignore(x => x.IsActive);
        e.Ignore(x => x.Duration);
        e.HasIndex(x => new { x.Kind, x.CreatedAt });
        e.HasIndex(x => new { x.Status, x.OwnerInstanceId });
        e.HasIndex(x => new { x.TargetId, x.Kind, x.Status });
        e.HasOne(x => x.Target).WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<ConsoleInstanceRecord>().WithMany().HasForeignKey(x => x.OwnerInstanceId).OnDelete(DeleteBehavior.SetNull);
    }
}
