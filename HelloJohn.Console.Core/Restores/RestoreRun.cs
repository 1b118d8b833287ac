using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Restores;

/// <summary>One restore, from request to outcome. Its phase durations are the measured components of the recovery
/// time (RTO) that the recovery wizards show.</summary>
public class RestoreRun
{
    public Guid Id { get; set; }
    /// <summary>Null once retention removed the backup; <see cref="BackupFileName"/> still says which it was.</summary>
    public Guid? BackupId { get; set; }
    public required string BackupFileName { get; set; }
    public Guid TargetId { get; set; }
    public BackupTarget? Target { get; set; }
    public RestoreMode Mode { get; set; }
    public required string DatabaseName { get; set; }
    /// <summary>host:port of the server restored into, without credentials.</summary>
    public string? Server { get; set; }
    public bool ReplaceExisting { get; set; }
    public RestoreStatus Status { get; set; }
    public RestorePhase Phase { get; set; }
    public string? RequestedBy { get; set; }
    public string? RequestedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>When pg_restore first wrote to the database; everything before it left the database untouched.</summary>
    public DateTimeOffset? RestoreStartedAt { get; set; }
    public TimeSpan? ChecksDuration { get; set; }
    public TimeSpan? SafetyBackupDuration { get; set; }
    public TimeSpan? RestoreDuration { get; set; }
    public TimeSpan? CountDuration { get; set; }
    /// <summary>The backup of the live database taken just before a restore in place.</summary>
    public Guid? SafetyBackupId { get; set; }
    public int Jobs { get; set; }
    public bool? CountsMatch { get; set; }
    public long? RowsRestored { get; set; }
    /// <summary>Which check stopped the run before any database was touched (see <see cref="ArchiveCheck"/>).</summary>
    public string? FailedCheck { get; set; }
    public string? Error { get; set; }
    public string? JobId { get; set; }
    public List<RestoreTableCount> Tables { get; set; } = [];

    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
}

public enum RestoreMode
{
    NewDatabase,
    InPlace,
}

public enum RestoreStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>Where a restore or verification is; shown live and kept with the run.</summary>
public enum RestorePhase
{
    Queued,
    Checking,
    SafetyBackup,
    Creating,
    Restoring,
    Counting,
    CleaningUp,
    Done,
}

/// <summary>Rows of one table after the restore, beside the count in the backup's manifest.</summary>
public class RestoreTableCount
{
    public Guid RunId { get; set; }
    public required string Schema { get; set; }
    public required string Table { get; set; }
    public long? Expected { get; set; }
    public long? Actual { get; set; }
}

internal sealed class RestoreRunConfiguration : IEntityTypeConfiguration<RestoreRun>
{
    public void Configure(EntityTypeBuilder<RestoreRun> e)
    {
        e.ToTable("restore_runs");
        e.Property(x => x.BackupFileName).HasMaxLength(256);
        e.Property(x => x.Mode).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.DatabaseName).HasMaxLength(63);
        e.Property(x => x.Server).HasMaxLength(512);
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Phase).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.RequestedBy).HasMaxLength(256);
        e.Property(x => x.RequestedByUserId).HasMaxLength(450);
        e.Property(x => x.FailedCheck).HasMaxLength(32);
        e.Property(x => x.Error).HasMaxLength(4000);
        e.Property(x => x.JobId).HasMaxLength(64);
        e.Ignore(x => x.Duration);
        e.HasIndex(x => x.CreatedAt);
        e.HasIndex(x => new { x.TargetId, x.DatabaseName, x.Status });
        e.HasOne(x => x.Target).WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<Backups.BackupRecord>().WithMany().HasForeignKey(x => x.BackupId).OnDelete(DeleteBehavior.SetNull);
        e.HasOne<Backups.BackupRecord>().WithMany().HasForeignKey(x => x.SafetyBackupId).OnDelete(DeleteBehavior.SetNull);
        e.HasMany(x => x.Tables).WithOne().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RestoreTableCountConfiguration : IEntityTypeConfiguration<RestoreTableCount>
{
    public void Configure(EntityTypeBuilder<RestoreTableCount> e)
    {
        e.ToTable("restore_table_counts");
        e.HasKey(x => new { x.RunId, x.Schema, x.Table });
        e.Property(x => x.Schema).HasMaxLength(128);
        e.Property(x => x.Table).HasMaxLength(128);
    }
}
