using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Notifications;

public enum NotificationChannelKind
{
    Email,
    Slack,
    Teams,
    Discord,
    Webhook,
}

/// <summary>Where messages go. Everything secret (the SMTP password, a webhook URL, custom headers, the signing secret)
/// is in <see cref="ProtectedSecrets"/>, encrypted with Data Protection and never shown again; <see cref="SecretHint"/>
/// says enough to recognise it (host only).</summary>
public class NotificationChannel
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public NotificationChannelKind Kind { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>The event codes (<see cref="NotificationEvents.Code"/>) this channel is sent.</summary>
    public List<string> Events { get; set; } = [];
    /// <summary>Settings that are not secret (SMTP host, port, sender, recipients), as JSON.</summary>
    public string Settings { get; set; } = "{}";
    public string? ProtectedSecrets { get; set; }
    public string? SecretHint { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}

internal sealed class NotificationChannelConfiguration : IEntityTypeConfiguration<NotificationChannel>
{
    public void Configure(EntityTypeBuilder<NotificationChannel> e)
    {
        e.ToTable("notification_channels");
        e.Property(x => x.Name).HasMaxLength(128);
        e.HasIndex(x => x.Name).IsUnique();
        e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Settings).HasColumnType("jsonb");
        e.Property(x => x.SecretHint).HasMaxLength(256);
        e.Property(x => x.CreatedBy).HasMaxLength(256);
        e.Property(x => x.UpdatedBy).HasMaxLength(256);
    }
}
