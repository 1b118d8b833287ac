using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Pitr;

public enum ReceiverState
{
    Stopped,
    Starting,
    Streaming,
    Restarting,
}

/// <summary>One protected server's WAL stream as last reported by the instance that runs its receiver. Every instance
/// reads it, so a page shows the state wherever the receiver runs.</summary>
public class PitrServerState
{
    public Guid TargetId { get; set; }
    public required string SlotName { get; set; }
    /// <summary>pg_control's system identifier: WAL of another cluster never enters this archive.</summary>
    public string? SystemIdentifier { get; set; }
    public int Timeline { get; set; }
    public ReceiverState State { get; set; }
    public string? Reason { get; set; }
    public string? Instance { get; set; }
    public int? ProcessId { get; set; }
    public string? LastReceivedLsn { get; set; }
    public DateTimeOffset? LastReceivedAt { get; set; }
    public DateTimeOffset? NewestCommitAt { get; set; }
    public string? NewestCommitLsn { get; set; }
    /// <summary>When the window had to start again (slot lost, timeline changed), and why.</summary>
    public DateTimeOffset? WindowRestartedAt { get; set; }
    public string? WindowRestartReason { get; set; }
    /// <summary>Streaming stopped on purpose by an administrator; no instance starts a receiver for it.</summary>
    public bool Paused { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A file in the WAL archive: a closed segment, the newest partial segment, or a timeline history file.</summary>
public class WalArchiveFile
{
    public long Id { get; set; }
    public Guid TargetId { get; set; }
    public WalFileKind Kind { get; set; }
    public int Timeline { get; set; }
    public long Segment { get; set; }
    public required string Key { get; set; }
    public long SizeBytes { get; set; }
    /// <summary>SHA-256 of the stored (compressed) bytes.</summary>
    public required string Sha256 { get; set; }
    public DateTimeOffset? FirstCommitAt { get; set; }
    public DateTimeOffset? LastCommitAt { get; set; }
    /// <summary>The end of the last valid record read (the partial segment's received position).</summary>
    public string? EndLsn { get; set; }
    /// <summary>A history file's content (a few lines), so the window needs no store read.</summary>
    public string? Content { get; set; }
    public DateTimeOffset ArchivedAt { get; set; }
}

/// <summary>A base backup's catalog status: its run's (<see cref="RunStatus"/>) while the run lasts, then
/// <see cref="Expired"/> once retention removed it.</summary>
public enum BaseBackupStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Expired,
    Cancelled,
}

/// <summary>A pg_basebackup in the tiers: the catalog entry, which outlives the run that takes it (retention expires
/// it). The run is a <see cref="RunRecord"/> of kind <see cref="RunKind.BaseBackup"/> under the same id; the catalog
/// status follows the run's (<see cref="BaseBackupRunKind"/>).</summary>
public class BaseBackupRecord
{
    public Guid Id { get; set; }
    public Guid TargetId { get; set; }
    public BaseBackupStatus Status { get; set; }
    public required string Reason { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int Timeline { get; set; }
    public string? StartLsn { get; set; }
    public string? EndLsn { get; set; }
    /// <summary>The server's clock when the backup was complete: the earliest moment it restores to.</summary>
    public DateTimeOffset? ConsistentAt { get; set; }
    public long SizeBytes { get; set; }
    public required string KeyPrefix { get; set; }
    public string? Stores { get; set; }
    /// <summary>"name sha256 size" per stored file, one a line.</summary>
    public string? Files { get; set; }
    public string? Verification { get; set; }
    public string? Error { get; set; }
}

public enum PitrRestoreMode
{
    /// <summary>Pauses at the target (read only) so it can be inspected; archiving off.</summary>
    Verify,
    /// <summary>Promotes at the target: a new primary for HelloJohn.</summary>
    Disaster,
}

/// <summary>What a restore to a point in time did; its lifecycle (status, phase, who asked and when, how it ended) is
/// its <see cref="Runs.RunRecord"/> of kind <see cref="RunKind.PitrRestore"/>, under the same id.</summary>
public class PitrRestoreRecord
{
    public Guid Id { get; set; }
    public RunRecord? Run { get; set; }
    public Guid TargetId { get; set; }
    public DateTimeOffset TargetTime { get; set; }
    public required string Zone { get; set; }
    public PitrRestoreMode Mode { get; set; }
    public required string DataDirectory { get; set; }
    public int Port { get; set; }
    /// <summary>Whether this restore created <see cref="DataDirectory"/> (true) or was given it empty (false); null
    /// until the restore reached it. Only a directory it created is removed after a crash.</summary>
    public bool? DataDirectoryCreated { get; set; }
    public Guid? BaseBackupId { get; set; }
    public string? StoppedAt { get; set; }
    /// <summary>How to use the result (connection, promotion, pointing HelloJohn at it), one step a line.</summary>
    public string? NextSteps { get; set; }
    /// <summary>"database.schema.table rows" per table, one a line.</summary>
    public string? RowCounts { get; set; }
    /// <summary>When the restored server was stopped and its data directory deleted from the console, and by whom.</summary>
    public DateTimeOffset? RemovedAt { get; set; }
    public string? RemovedBy { get; set; }
}

internal sealed class PitrRecordsConfiguration :
    IEntityTypeConfiguration<PitrServerState>, IEntityTypeConfiguration<WalArchiveFile>,
    IEntityTypeConfiguration<BaseBackupRecord>, IEntityTypeConfiguration<PitrRestoreRecord>
{
    public void Configure(EntityTypeBuilder<PitrServerState> e)
    {
        e.ToTable("pitr_servers");
        e.HasKey(x => x.TargetId);
        e.Property(x => x.SlotName).HasMaxLength(63);
        e.Property(x => x.SystemIdentifier).HasMaxLength(32);
        e.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Instance).HasMaxLength(128);
        e.Property(x => x.LastReceivedLsn).HasMaxLength(20);
        e.Property(x => x.NewestCommitLsn).HasMaxLength(20);
    }

    public void Configure(EntityTypeBuilder<WalArchiveFile> e)
    {
        e.ToTable("pitr_wal_files");
        e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Key).HasMaxLength(512);
        e.Property(x => x.Sha256).HasMaxLength(64);
        e.Property(x => x.EndLsn).HasMaxLength(20);
        e.HasIndex(x => new { x.TargetId, x.Kind, x.Timeline, x.Segment }).IsUnique();
    }

    public void Configure(EntityTypeBuilder<BaseBackupRecord> e)
    {
        e.ToTable("pitr_base_backups");
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Reason).HasMaxLength(256);
        e.Property(x => x.StartLsn).HasMaxLength(20);
        e.Property(x => x.EndLsn).HasMaxLength(20);
        e.Property(x => x.KeyPrefix).HasMaxLength(512);
        e.Property(x => x.Stores).HasMaxLength(512);
        e.HasIndex(x => new { x.TargetId, x.StartedAt });
    }

    public void Configure(EntityTypeBuilder<PitrRestoreRecord> e)
    {
        e.ToTable("pitr_restores");
        e.Property(x => x.Zone).HasMaxLength(64);
        e.Property(x => x.Mode).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.DataDirectory).HasMaxLength(1024);
        e.Property(x => x.RemovedBy).HasMaxLength(256);
        e.HasIndex(x => x.TargetId);
        e.HasOne(x => x.Run).WithOne().HasForeignKey<PitrRestoreRecord>(x => x.Id).OnDelete(DeleteBehavior.Cascade);
    }
}
