using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Sets;

/// <summary>One proof that a whole set restores: a verification run per kept member (restored into a throw-away
/// database, every table counted against its manifest), at most Sets__Parallelism at once per console instance. It
/// passes only when every member's verification passed.</summary>
public class BackupSetVerification
{
    public Guid Id { get; set; }
    public Guid SetId { get; set; }
    public Guid TargetId { get; set; }
    public BackupSetVerificationStatus Status { get; set; }
    public string? RequestedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>The members' verification runs.</summary>
    public List<Guid> RunIds { get; set; } = [];
    public int Passed { get; set; }
    public int Failed { get; set; }
    /// <summary>Each member that did not pass, and why.</summary>
    public string? Error { get; set; }

    public TimeSpan? Duration => FinishedAt is { } f ? f - CreatedAt : null;
}

public enum BackupSetVerificationStatus
{
    Running,
    Passed,
    Failed,
    Cancelled,
}

internal sealed class BackupSetVerificationConfiguration : IEntityTypeConfiguration<BackupSetVerification>
{
    public void Configure(EntityTypeBuilder<BackupSetVerification> e)
    {
        e.ToTable("backup_set_verifications");
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.RequestedBy).HasMaxLength(256);
        e.Property(x => x.Error).HasMaxLength(4000);
        e.Ignore(x => x.Duration);
        e.HasIndex(x => new { x.SetId, x.CreatedAt });
        e.HasIndex(x => x.Status);
        e.HasOne<BackupSet>().WithMany().HasForeignKey(x => x.SetId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<BackupTarget>().WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Restrict);
    }
}
