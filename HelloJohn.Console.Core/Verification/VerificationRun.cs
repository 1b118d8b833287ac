using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Verification;

/// <summary>One proof that a backup restores: restored into a throw-away database, every table counted and compared
/// with the manifest, the database dropped. Its lifecycle is its <see cref="RunRecord"/>, under the same id.</summary>
public class VerificationRun
{
    public Guid Id { get; set; }
    public RunRecord? Run { get; set; }
    /// <summary>Null once retention removed the backup; <see cref="BackupFileName"/> still says which it was.</summary>
    public Guid? BackupId { get; set; }
    public required string BackupFileName { get; set; }
    /// <summary>The throw-away database; recorded before it is created, so a crash leaves a trace of it.</summary>
    public string? DatabaseName { get; set; }
    /// <summary>host:port restored on (the target's server or the scratch server), without credentials.</summary>
    public string? Server { get; set; }
    public VerificationTrigger Trigger { get; set; }
    public TimeSpan? ChecksDuration { get; set; }
    public TimeSpan? RestoreDuration { get; set; }
    public TimeSpan? CountDuration { get; set; }
    public int Jobs { get; set; }
    public long? RowsCounted { get; set; }
    /// <summary>Which check stopped the run before any database was touched (see <see cref="ArchiveCheck"/>).</summary>
    public string? FailedCheck { get; set; }
    /// <summary>True once the throw-away database is gone; false when dropping it failed.</summary>
    public bool? DatabaseDropped { get; set; }
    /// <summary>Leftover verification databases of crashed runs that this run found, and what became of them.</summary>
    public string? Leftovers { get; set; }
    public List<VerificationTableCount> Tables { get; set; } = [];

    /// <summary>Who asked for it and its job, when read with its <see cref="Run"/>.</summary>
    public string? RequestedBy => Run?.RequestedBy;
    public string? JobId => Run?.JobId;
}

/// <summary>A verification's status: its run's (<see cref="RunStatus"/>, passed being succeeded), in the same order.</summary>
public enum VerificationStatus
{
    Queued,
    Running,
    Passed,
    Failed,
    Cancelled,
}

public enum VerificationTrigger
{
    Manual,
    AfterBackup,
    Scheduled,
}

/// <summary>Rows of one table in the throw-away database, beside the count in the backup's manifest.</summary>
public class VerificationTableCount : RunTableCount;

internal sealed class VerificationRunConfiguration : IEntityTypeConfiguration<VerificationRun>
{
    public void Configure(EntityTypeBuilder<VerificationRun> e)
    {
        e.ToTable("verification_runs");
        e.Property(x => x.BackupFileName).HasMaxLength(256);
        e.Property(x => x.DatabaseName).HasMaxLength(63);
        e.Property(x => x.Server).HasMaxLength(512);
        e.Property(x => x.Trigger).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.FailedCheck).HasMaxLength(32);
        e.Property(x => x.Leftovers).HasMaxLength(4000);
        e.Ignore(x => x.RequestedBy);
        e.Ignore(x => x.JobId);
        e.HasIndex(x => x.BackupId);
        e.HasIndex(x => x.DatabaseName);
        e.HasOne(x => x.Run).WithOne().HasForeignKey<VerificationRun>(x => x.Id).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Backups.BackupRecord>().WithMany().HasForeignKey(x => x.BackupId).OnDelete(DeleteBehavior.SetNull);
        e.HasMany(x => x.Tables).WithOne().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class VerificationTableCountConfiguration : IEntityTypeConfiguration<VerificationTableCount>
{
    public void Configure(EntityTypeBuilder<VerificationTableCount> e) => RunTableCounts.Configure(e, "verification_table_counts");
}
