using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Backups;

/// <summary>The catalog entry of one backup file. The run that takes it is a <see cref="Runs.RunRecord"/> with the same
/// id (who executes it, its heartbeat, why it failed); the catalog keeps what outlives the run: the file, its state
/// (queued, running, succeeded, partially stored, failed, cancelled, expired), its counts and where its copies are.
/// An entry rebuilt from storage has no run.</summary>
public class BackupRecord
{
    public Guid Id { get; set; }
    public Guid TargetId { get; set; }
    public BackupTarget? Target { get; set; }
    /// <summary>The database dumped. Null for a backup taken before deployments had several databases: it is of the
    /// database its target's connection names.</summary>
    public string? DatabaseName { get; set; }
    /// <summary>The set it is a member of; null for a backup of one database on its own (a safety backup before a
    /// restore in place, one taken before sets existed).</summary>
    public Guid? SetId { get; set; }
    public Sets.BackupSet? Set { get; set; }
    public required string FileName { get; set; }
    public BackupStatus Status { get; set; }
    public BackupTrigger Trigger { get; set; }
    public string? RequestedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>Bytes written so far (live progress); equals <see cref="SizeBytes"/> once done.</summary>
    public long BytesWritten { get; set; }
    public long? SizeBytes { get; set; }
    public string? Sha256 { get; set; }
    public string? Error { get; set; }
    public string Format { get; set; } = "custom";
    public string Compression { get; set; } = "gzip:9";
    public string? ServerVersion { get; set; }
    public string? PgDumpVersion { get; set; }
    public string? SchemaVersion { get; set; }
    public string Tier { get; set; } = "daily";
    public bool Pinned { get; set; }
    /// <summary>When retention deleted its files (status <see cref="BackupStatus.Expired"/>).</summary>
    public DateTimeOffset? ExpiredAt { get; set; }
    public List<BackupTableCount> TableCounts { get; set; } = [];
    public List<BackupLocation> Locations { get; set; } = [];

    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
    public long TotalRows => TableCounts.Sum(c => c.Rows);
}

public enum BackupStatus
{
    Queued,
    Running,
    Succeeded,
    /// <summary>The local copy is complete but a remote destination failed; a retry uploads from the local copy.</summary>
    PartiallyStored,
    Failed,
    Cancelled,
    /// <summary>Retention deleted its files from every store; the record stays for history.</summary>
    Expired,
    /// <summary>Found in storage, but its file could not be proven to be the backup its manifest describes (SHA-256,
    /// size, or pg_restore cannot read it; <see cref="BackupRecord.Error"/> says which). Never offered for restore or
    /// verification.</summary>
    Unverifiable,
}

public enum BackupTrigger
{
    Manual,
    Scheduled,
    /// <summary>Taken automatically before a restore in place.</summary>
    SafetyBeforeRestore,
    Imported,
}

/// <summary>Rows in one table at the moment of the dump's snapshot.</summary>
public class BackupTableCount
{
    public Guid BackupId { get; set; }
    public required string Schema { get; set; }
    public required string Table { get; set; }
    public long Rows { get; set; }
}

/// <summary>Where a copy of the backup lives (store name and object key), with its storage class.</summary>
public class BackupLocation
{
    public Guid BackupId { get; set; }
    public required string Store { get; set; }
    public required string Key { get; set; }
    public string? StorageClass { get; set; }
    public DateTimeOffset StoredAt { get; set; }
}

internal sealed class BackupRecordConfiguration : IEntityTypeConfiguration<BackupRecord>
{
    public void Configure(EntityTypeBuilder<BackupRecord> e)
    {
        e.ToTable("backups");
        e.Property(x => x.FileName).HasMaxLength(256);
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(24);
        e.Property(x => x.Trigger).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.RequestedBy).HasMaxLength(256);
        e.Property(x => x.Sha256).HasMaxLength(64);
        e.Property(x => x.Format).HasMaxLength(32);
        e.Property(x => x.Compression).HasMaxLength(32);
        e.Property(x => x.Tier).HasMaxLength(32);
        e.Property(x => x.DatabaseName).HasMaxLength(128);
        e.HasIndex(x => x.SetId);
        // The Dashboard's newest kept dump of each database of a deployment.
        e.HasIndex(x => new { x.TargetId, x.DatabaseName, x.Status }).IncludeProperties(x => x.StartedAt);
        e.HasOne(x => x.Set).WithMany().HasForeignKey(x => x.SetId).OnDelete(DeleteBehavior.Restrict);
        e.Ignore(x => x.Duration);
        e.Ignore(x => x.TotalRows);
        e.HasIndex(x => new { x.TargetId, x.CreatedAt });
        e.HasIndex(x => x.CreatedAt);
        e.HasIndex(x => x.Status);
        // Every store keeps backups side by side under their file names: two records sharing one would write one file.
        e.HasIndex(x => x.FileName).IsUnique();
        // The Dashboard's newest good backup, succeeded count and storage sum, as index-only work on a catalog of
        // years of records (docs/benchmarks.md, UI figures).
        e.HasIndex(x => new { x.TargetId, x.Status, x.StartedAt }).IncludeProperties(x => x.SizeBytes);
        e.HasOne(x => x.Target).WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Restrict);
        e.HasMany(x => x.TableCounts).WithOne().HasForeignKey(x => x.BackupId).OnDelete(DeleteBehavior.Cascade);
        e.HasMany(x => x.Locations).WithOne().HasForeignKey(x => x.BackupId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class BackupTableCountConfiguration : IEntityTypeConfiguration<BackupTableCount>
{
    public void Configure(EntityTypeBuilder<BackupTableCount> e)
    {
        e.ToTable("backup_table_counts");
        e.HasKey(x => new { x.BackupId, x.Schema, x.Table });
        e.Property(x => x.Schema).HasMaxLength(128);
        e.Property(x => x.Table).HasMaxLength(128);
    }
}

internal sealed class BackupLocationConfiguration : IEntityTypeConfiguration<BackupLocation>
{
    public void Configure(EntityTypeBuilder<BackupLocation> e)
    {
        e.ToTable("backup_locations");
        e.HasKey(x => new { x.BackupId, x.Store });
        e.Property(x => x.Store).HasMaxLength(64);
        e.Property(x => x.Key).HasMaxLength(1024);
        e.Property(x => x.StorageClass).HasMaxLength(32);
    }
}
