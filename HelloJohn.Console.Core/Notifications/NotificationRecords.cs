using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Notifications;

/// <summary>An event the console raised, whether or not any channel took it. Kept for the delivery log, for repeat
/// suppression and for the metrics that count failures by kind.</summary>
public class NotificationEventRecord
{
    public Guid Id { get; set; }
    public required string Kind { get; set; }
    public NotificationSeverity Severity { get; set; }
    public Guid? TargetId { get; set; }
    public string? TargetName { get; set; }
    public Guid? SubjectId { get; set; }
    public required string Title { get; set; }
    public required string Text { get; set; }
    public string? NotTouched { get; set; }
    public string? LinkPath { get; set; }
    public string? DedupeKey { get; set; }
    public string? Store { get; set; }
    public string Facts { get; set; } = "{}";
    public DateTimeOffset OccurredAt { get; set; }
}

public enum DeliveryStatus
{
    Pending,
    Sending,
    Delivered,
    /// <summary>An attempt failed; another is scheduled at <see cref="NotificationDelivery.NextAttemptAt"/>.</summary>
    Retrying,
    /// <summary>Every attempt failed; the message was given up.</summary>
    Failed,
}

/// <summary>One event to one channel: its attempts, and where it stands.</summary>
public class NotificationDelivery
{
    public Guid Id { get; set; }
    public Guid EventId { get; set; }
    public NotificationEventRecord? Event { get; set; }
    public Guid ChannelId { get; set; }
    public DeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? LastError { get; set; }
    public List<NotificationAttempt> AttemptLog { get; set; } = [];
}

/// <summary>One try at sending, with how it ended.</summary>
public class NotificationAttempt
{
    public Guid DeliveryId { get; set; }
    public int Number { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public TimeSpan Duration { get; set; }
    public bool Succeeded { get; set; }
    /// <summary>What the receiver said (HTTP status, SMTP reply) or why nothing reached it. Never holds a secret.</summary>
    public string? Detail { get; set; }
}

internal sealed class NotificationEventRecordConfiguration : IEntityTypeConfiguration<NotificationEventRecord>
{
    public void Configure(EntityTypeBuilder<NotificationEventRecord> e)
    {
        e.ToTable("notification_events");
        e.Property(x => x.Kind).HasMaxLength(64);
        e.Property(x => x.Severity).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.TargetName).HasMaxLength(128);
        e.Property(x => x.Title).HasMaxLength(300);
        e.Property(x => x.Text).HasMaxLength(4000);
        e.Property(x => x.NotTouched).HasMaxLength(1000);
        e.Property(x => x.LinkPath).HasMaxLength(512);
        e.Property(x => x.DedupeKey).HasMaxLength(256);
        e.Property(x => x.Store).HasMaxLength(64);
        e.Property(x => x.Facts).HasColumnType("jsonb");
        e.HasIndex(x => x.OccurredAt);
        e.HasIndex(x => new { x.DedupeKey, x.OccurredAt });
        e.HasIndex(x => new { x.Kind, x.Store });
    }
}

internal sealed class NotificationDeliveryConfiguration : IEntityTypeConfiguration<NotificationDelivery>
{
    public void Configure(EntityTypeBuilder<NotificationDelivery> e)
    {
        e.ToTable("notification_deliveries");
        e.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.LastError).HasMaxLength(2000);
        e.HasIndex(x => new { x.ChannelId, x.CreatedAt });
        e.HasIndex(x => x.Status);
        e.HasOne(x => x.Event).WithMany().HasForeignKey(x => x.EventId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<NotificationChannel>().WithMany().HasForeignKey(x => x.ChannelId).OnDelete(DeleteBehavior.Cascade);
        e.HasMany(x => x.AttemptLog).WithOne().HasForeignKey(x => x.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class NotificationAttemptConfiguration : IEntityTypeConfiguration<NotificationAttempt>
{
    public void Configure(EntityTypeBuilder<NotificationAttempt> e)
    {
        e.ToTable("notification_attempts");
        e.HasKey(x => new { x.DeliveryId, x.Number });
        e.Property(x => x.Detail).HasMaxLength(2000);
    }
}
