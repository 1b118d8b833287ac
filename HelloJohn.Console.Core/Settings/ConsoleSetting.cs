using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Settings;

/// <summary>A setting an administrator changed in the console, kept in the console database so every instance sharing
/// it agrees. The value is text; each setting's owner reads and writes it in its own type.</summary>
public class ConsoleSetting
{
    public required string Key { get; set; }
    public required string Value { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}

internal sealed class ConsoleSettingConfiguration : IEntityTypeConfiguration<ConsoleSetting>
{
    public void Configure(EntityTypeBuilder<ConsoleSetting> e)
    {
        e.ToTable("console_settings");
        e.HasKey(x => x.Key);
        e.Property(x => x.Key).HasMaxLength(128);
        e.Property(x => x.Value).HasMaxLength(4000);
        e.Property(x => x.UpdatedBy).HasMaxLength(256);
    }
}
