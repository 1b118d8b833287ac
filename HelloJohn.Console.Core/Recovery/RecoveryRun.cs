using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>One guided recovery (or drill), from start to the last check passing. Everything the wizard learns is kept
/// here, so the run can be resumed after the console restarts or from another browser, and its RPO and RTO stay.</summary>
public class RecoveryRun
{
    public Guid Id { get; set; }
    /// <summary>Its lifecycle run, under the same id: which instance executes a step of it now, how it ended.</summary>
    public RunRecord? Run { get; set; }
    public RecoveryScenario Scenario { get; set; }
    public Guid TargetId { get; set; }
    public BackupTarget? Target { get; set; }
    /// <summary>The target's provider when the run started: it chose the instructions and checks.</summary>
    public TargetProvider Provider { get; set; }
    public RecoveryRunStatus Status { get; set; }
    public required string StartedBy { get; set; }
    public string? StartedByUserId { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    /// <summary>When the last check passed (completed) or the run was abandoned.</summary>
    public DateTimeOffset? EndedAt { get; set; }
    public string? EndedBy { get; set; }
    public string? EndReason { get; set; }

    /// <summary>When the data stopped being written: entered by the engineer, or detected (see <see cref="IncidentSource"/>).</summary>
    public DateTimeOffset? IncidentAt { get; set; }
    public IncidentTimeSource? IncidentSource { get; set; }

    /// <summary>The backup restored, and the time of its snapshot (the newest data it holds).</summary>
    public Guid? BackupId { get; set; }
    public string? BackupFileName { get; set; }
    /// <summary>When the chosen backup is a set's member: the set, whose every kept database is restored (the chosen
    /// one into the new database, the others beside it) and verified, so the RTO is the whole deployment's.</summary>
    public Guid? SetId { get; set; }
    public DateTimeOffset? RecoveryPointAt { get; set; }
    public string? BackupServerVersion { get; set; }

    /// <summary>Recovery point objective achieved: incident time minus the restored data's time. Measured, kept.</summary>
    public TimeSpan? Rpo { get; set; }
    /// <summary>Recovery time: from the start of the run to its last check passing. Measured, kept.</summary>
    public TimeSpan? Rto { get; set; }

    /// <summary>The new database's connection string, encrypted with Data Protection. Holds a password: never shown.</summary>
    public string? ProtectedNewConnection { get; set; }
    /// <summary>user@host:port/database of the new database, safe to show.</summary>
    public string? NewDatabaseDisplay { get; set; }
    public string? NewServerVersion { get; set; }
    /// <summary>The database does not exist yet and the restore creates it.</summary>
    public bool CreateNewDatabase { get; set; }
    /// <summary>The engineer confirmed restoring into a database that already holds tables.</summary>
    public bool NonEmptyConfirmed { get; set; }
    /// <summary>pg_restore has written into the new database at least once (a retry cleans first).</summary>
    public bool RestoreWritten { get; set; }
    public string? HealthUrl { get; set; }
    public string? SigningKeyFingerprint { get; set; }
    public string? SigningKeyVersionId { get; set; }
    /// <summary>Point-in-time scenario: the moment to recover to, as the engineer gave it (with its zone).</summary>
    public DateTimeOffset? PointInTimeTarget { get; set; }
    public string? PointInTimeZone { get; set; }
    /// <summary>Drill: the scratch database created (and dropped) by the console on the target's server.</summary>
    public string? ScratchDatabase { get; set; }

    public List<RecoveryStepState> Steps { get; set; } = [];
}

/// <summary>Where one step of a run stands.</summary>
public class RecoveryStepState
{
    public Guid RunId { get; set; }
    public int Position { get; set; }
    public required string Key { get; set; }
    public RecoveryStepStatus Status { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>Who pressed the button (or marked it done by hand).</summary>
    public string? CompletedBy { get; set; }
    public string? RequestedBy { get; set; }
    public string? RequestedByUserId { get; set; }
    public bool MarkedDoneByHand { get; set; }
    /// <summary>The result of the last check, or why the action failed, for people.</summary>
    public string? Message { get; set; }
    public DateTimeOffset? CheckedAt { get; set; }
    public int Attempts { get; set; }
    public string? JobId { get; set; }
}

/// <summary>A line of a step's live log. Never holds a secret.</summary>
public class RecoveryLogLine
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public required string StepKey { get; set; }
    public DateTimeOffset At { get; set; }
    public RecoveryLogLevel Level { get; set; }
    public required string Text { get; set; }
}

public enum RecoveryScenario
{
    DatabaseHostFailure,
    SigningKeyLost,
    PointInTime,
    Drill,
}

public enum RecoveryRunStatus
{
    Active,
    Completed,
    /// <summary>Stopped by a person before the end.</summary>
    Abandoned,
    /// <summary>A drill whose step failed: it found a problem before a real incident did.</summary>
    Failed,
}

public enum RecoveryStepStatus
{
    Pending,
    Queued,
    Running,
    Passed,
    Failed,
}

public enum RecoveryLogLevel
{
    Info,
    Warning,
    Error,
}

public enum IncidentTimeSource
{
    /// <summary>Typed in by the engineer.</summary>
    Entered,
    /// <summary>The first backup that failed after the last good one: the database was gone by then.</summary>
    FirstFailedBackup,
    /// <summary>Nothing better known: the moment the recovery started (an upper bound).</summary>
    RunStart,
}

internal sealed class RecoveryRunConfiguration : IEntityTypeConfiguration<RecoveryRun>
{
    public void Configure(EntityTypeBuilder<RecoveryRun> e)
    {
        e.ToTable("recovery_runs");
        e.Property(x => x.Scenario).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.Provider).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.IncidentSource).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.StartedBy).HasMaxLength(256);
        e.Property(x => x.StartedByUserId).HasMaxLength(450);
        e.Property(x => x.EndedBy).HasMaxLength(256);
        e.Property(x => x.EndReason).HasMaxLength(1000);
        e.Property(x => x.BackupFileName).HasMaxLength(256);
        e.Property(x => x.BackupServerVersion).HasMaxLength(64);
        e.Property(x => x.ProtectedNewConnection).HasMaxLength(4000);
        e.Property(x => x.NewDatabaseDisplay).HasMaxLength(512);
        e.Property(x => x.NewServerVersion).HasMaxLength(64);
        e.Property(x => x.HealthUrl).HasMaxLength(600);
        e.Property(x => x.SigningKeyFingerprint).HasMaxLength(64);
        e.Property(x => x.SigningKeyVersionId).HasMaxLength(128);
        e.Property(x => x.PointInTimeZone).HasMaxLength(64);
        e.Property(x => x.ScratchDatabase).HasMaxLength(63);
        e.HasIndex(x => x.StartedAt);
        e.HasIndex(x => new { x.Scenario, x.Status, x.EndedAt });
        // One active run per target and scenario, across every console instance sharing this database.
        e.HasIndex(x => new { x.TargetId, x.Scenario }).IsUnique().HasFilter("\"Status\" = 'Active'").HasDatabaseName("ix_recovery_runs_one_active");
        e.HasOne(x => x.Target).WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<Backups.BackupRecord>().WithMany().HasForeignKey(x => x.BackupId).OnDelete(DeleteBehavior.SetNull);
        e.HasMany(x => x.Steps).WithOne().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne(x => x.Run).WithOne().HasForeignKey<RecoveryRun>(x => x.Id).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RecoveryStepStateConfiguration : IEntityTypeConfiguration<RecoveryStepState>
{
    public void Configure(EntityTypeBuilder<RecoveryStepState> e)
    {
        e.ToTable("recovery_steps");
        e.HasKey(x => new { x.RunId, x.Key });
        e.Property(x => x.Key).HasMaxLength(64);
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.CompletedBy).HasMaxLength(256);
        e.Property(x => x.RequestedBy).HasMaxLength(256);
        e.Property(x => x.RequestedByUserId).HasMaxLength(450);
        e.Property(x => x.Message).HasMaxLength(4000);
        e.Property(x => x.JobId).HasMaxLength(64);
        e.HasIndex(x => new { x.RunId, x.Position }).IsUnique();
        e.HasIndex(x => x.Status);
    }
}

internal sealed class RecoveryLogLineConfiguration : IEntityTypeConfiguration<RecoveryLogLine>
{
    public void Configure(EntityTypeBuilder<RecoveryLogLine> e)
    {
        e.ToTable("recovery_log_lines");
        e.Property(x => x.StepKey).HasMaxLength(64);
        e.Property(x => x.Level).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Text).HasMaxLength(4000);
        e.HasIndex(x => new { x.RunId, x.Id });
        e.HasOne<RecoveryRun>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
