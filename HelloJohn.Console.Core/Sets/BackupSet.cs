using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Sets;

/// <summary>One backup of a deployment: a dump of every database it selected when the set ran (its members, each a
/// <see cref="BackupRecord"/> with its own run, file, counts and manifest), the server's roles, and a set manifest
/// listing them. The set succeeded only when every member did; otherwise it is partial, and a retry re-runs only the
/// members that failed. Retention keeps and expires whole sets.</summary>
public class BackupSet
{
    public Guid Id { get; set; }
    public Guid TargetId { get; set; }
    public BackupTarget? Target { get; set; }
    /// <summary><c>hellojohn_set_YYYYMMDD_HHMMSS</c>: the prefix of its manifest and roles files.</summary>
    public required string Name { get; set; }
    public BackupSetStatus Status { get; set; }
    public BackupTrigger Trigger { get; set; }
    public string? RequestedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>The run working on the set now: its first run has the set's own id; a retry of its failed members is a
    /// run of its own.</summary>
    public Guid CurrentRunId { get; set; }
    public bool Pinned { get; set; }
    public DateTimeOffset? ExpiredAt { get; set; }

    public string? RolesFileName { get; set; }
    public long? RolesSizeBytes { get; set; }
    public string? RolesSha256 { get; set; }
    public bool RolesWithPasswords { get; set; }
    /// <summary>What to know about the roles file (no passwords in it), or why it could not be kept.</summary>
    public string? RolesNote { get; set; }
    public bool RolesFailed { get; set; }

    /// <summary>Databases selected before and missing when the set ran: reported, never silently dropped.</summary>
    public List<string> GoneDatabases { get; set; } = [];

    /// <summary>Figures written when the set ends, so lists need not count members.</summary>
    public int MemberCount { get; set; }
    public int MembersSucceeded { get; set; }
    public long? SizeBytes { get; set; }
    public string? Error { get; set; }
    /// <summary>Who cancelled it while its members ran; it ends cancelled once they have stopped.</summary>
    public string? CancelledBy { get; set; }

    public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
    public bool IsActive => Status is BackupSetStatus.Queued or BackupSetStatus.Running;
}

public enum BackupSetStatus
{
    Queued,
    Running,
    /// <summary>Every member and the roles were kept.</summary>
    Succeeded,
    /// <summary>Some members (or the roles) failed; the others are good and restorable.</summary>
    Partial,
    /// <summary>Nothing was kept (the server could not be reached, every member failed).</summary>
    Failed,
    Cancelled,
    /// <summary>Retention deleted its files; the record stays for history.</summary>
    Expired,
}

internal sealed class BackupSetConfiguration : IEntityTypeConfiguration<BackupSet>
{
    public void Configure(EntityTypeBuilder<BackupSet> e)
    {
        e.ToTable("backup_sets");
        e.Property(x => x.Name).HasMaxLength(128);
        e.HasIndex(x => x.Name).IsUnique();
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Trigger).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.RequestedBy).HasMaxLength(256);
        e.Property(x => x.RolesFileName).HasMaxLength(256);
        e.Property(x => x.RolesSha256).HasMaxLength(64);
        e.Property(x => x.RolesNote).HasMaxLength(1000);
        e.Property(x => x.Error).HasMaxLength(4000);
        e.Property(x => x.CancelledBy).HasMaxLength(256);
        e.Ignore(x => x.Duration);
        e.Ignore(x => x.IsActive);
        e.HasIndex(x => new { x.TargetId, x.CreatedAt });
        e.HasIndex(x => x.CurrentRunId).IsUnique();
        // The Dashboard's newest good set per deployment.
        e.HasIndex(x => new { x.TargetId, x.Status, x.StartedAt });
        e.HasOne(x => x.Target).WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Restrict);
    }
}
