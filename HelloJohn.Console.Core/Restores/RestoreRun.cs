using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Restores;

/// <summary>What one restore did, from request to outcome; its lifecycle (status, phase, who asked, when, why it ended)
/// is its <see cref="Runs.RunRecord"/>, under the same id. Its phase durations are the measured components of the
/// recovery time (RTO) that the recovery wizards show.</summary>
public class RestoreRun
{
    public Guid Id { get; set; }
    public RunRecord? Run { get; set; }
    /// <summary>Null once retention removed the backup; <see cref="BackupFileName"/> still says which it was.</summary>
    public Guid? BackupId { get; set; }
    public required string BackupFileName { get; set; }
    public RestoreMode Mode { get; set; }
    public required string DatabaseName { get; set; }
    /// <summary>host:port of the server restored into, without credentials.</summary>
    public string? Server { get; set; }
    /// <summary>The connection string of a server named in the request (not the target's), encrypted; cleared once the
    /// run has ended and cleaned up. Never shown or logged.</summary>
    public string? ProtectedServerConnection { get; set; }
    public bool ReplaceExisting { get; set; }
    /// <summary>This restore created the database (so a failure, or the sweep after a crash, may drop it).</summary>
    public bool DatabaseCreated { get; set; }
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
    public List<RestoreTableCount> Tables { get; set; } = [];
}

public enum RestoreMode
{
    NewDatabase,
    InPlace,
}

/// <summary>A restore's status: its run's (<see cref="RunStatus"/>), in the same order.</summary>
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
public class RestoreTableCount : RunTableCount;

internal sealed class RestoreRunConfiguration : IEntityTypeConfiguration<RestoreRun>
{
    public void Configure(EntityTypeBuilder<RestoreRun> e)
    {
        e.ToTable("restore_runs");
        e.Property(x => x.BackupFileName).HasMaxLength(256);
        e.Property(x => x.Mode).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.DatabaseName).HasMaxLength(63);
        e.Property(x => x.Server).HasMaxLength(512);
        e.Property(x => x.FailedCheck).HasMaxLength(32);
        e.HasIndex(x => x.DatabaseName);
        e.HasOne(x => x.Run).WithOne().HasForeignKey<RestoreRun>(x => x.Id).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Backups.BackupRecord>().WithMany().HasForeignKey(x => x.BackupId).OnDelete(DeleteBehavior.SetNull);
        e.HasOne<Backups.BackupRecord>().WithMany().HasForeignKey(x => x.SafetyBackupId).OnDelete(DeleteBehavior.SetNull);
        e.HasMany(x => x.Tables).WithOne().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RestoreTableCountConfiguration : IEntityTypeConfiguration<RestoreTableCount>
{
    public void Configure(EntityTypeBuilder<RestoreTableCount> e) => RunTableCounts.Configure(e, "restore_table_counts");
}
