using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Schedules;

public enum ScheduleKind
{
    Backup,
    Verification,
    Retention,
    JwksCheck,
    /// <summary>The database-host-failure recovery rehearsed against a scratch database, measuring the real RTO.</summary>
    Drill,
}

/// <summary>A recurring job of one target as the console keeps it; Hangfire's recurring job of the same id is rebuilt
/// from it at start and after every change.</summary>
public class ScheduleSetting
{
    /// <summary>The Hangfire recurring-job id, e.g. <c>backup:&lt;targetId&gt;</c>.</summary>
    public required string Id { get; set; }
    public ScheduleKind Kind { get; set; }
    public Guid TargetId { get; set; }
    public required string Cron { get; set; }
    /// <summary>IANA id of the zone the cron expression is read in.</summary>
    public required string TimeZone { get; set; }
    public bool Paused { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}

internal sealed class ScheduleSettingConfiguration : IEntityTypeConfiguration<ScheduleSetting>
{
    public void Configure(EntityTypeBuilder<ScheduleSetting> e)
    {
        e.ToTable("schedules");
        e.HasKey(x => x.Id);
        e.Property(x => x.Id).HasMaxLength(96);
        e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(24);
        e.Property(x => x.Cron).HasMaxLength(128);
        e.Property(x => x.TimeZone).HasMaxLength(64);
        e.Property(x => x.UpdatedBy).HasMaxLength(256);
        e.HasIndex(x => new { x.TargetId, x.Kind }).IsUnique();
        e.HasOne<BackupTarget>().WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Cascade);
    }
}
