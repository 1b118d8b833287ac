using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Targets;

/// <summary>A HelloJohn database the console protects (production, staging, …).</summary>
public class BackupTarget
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>Where its connection comes from: <see cref="TargetConnectionSource.Environment"/> reads
    /// HELLOJOHN_DATABASE_URL at each use (so a rotated password needs no edit here); <see cref="TargetConnectionSource.Stored"/>
    /// keeps it encrypted with Data Protection in <see cref="ProtectedConnectionString"/>.</summary>
    public TargetConnectionSource ConnectionSource { get; set; }
    public string? ProtectedConnectionString { get; set; }
    /// <summary>HelloJohn's public URL, for /health and /.well-known/jwks.json checks.</summary>
    public string? BaseUrl { get; set; }
    public TargetProvider Provider { get; set; }
    /// <summary>host:port/database, without credentials, for display.</summary>
    public string? DisplayAddress { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public enum TargetConnectionSource
{
    Environment,
    Stored,
    /// <summary>No connection yet: the target was re-created from backup manifests by a catalog rebuild. Its backups
    /// can be listed and restored; it cannot be backed up until an administrator gives it a connection.</summary>
    Unset,
}

public enum TargetProvider
{
    SelfManaged,
    DockerCompose,
    Neon,
    Supabase,
    AmazonRds,
}

internal sealed class BackupTargetConfiguration : IEntityTypeConfiguration<BackupTarget>
{
    public void Configure(EntityTypeBuilder<BackupTarget> e)
    {
        e.ToTable("targets");
        e.Property(x => x.Name).HasMaxLength(128);
        e.HasIndex(x => x.Name).IsUnique();
        e.Property(x => x.ConnectionSource).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Provider).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.BaseUrl).HasMaxLength(512);
        e.Property(x => x.DisplayAddress).HasMaxLength(512);
    }
}
