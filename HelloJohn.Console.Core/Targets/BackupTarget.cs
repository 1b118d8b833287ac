using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Targets;

/// <summary>A HelloJohn deployment the console protects (production, staging, …): one PostgreSQL server connection and
/// the databases to protect on it, named one by one (<see cref="Databases"/>) and/or by pattern (<see cref="Patterns"/>).
/// HelloJohn keeps a control-plane database and one database per tenant; older installations one database. Called a
/// target in code for history's sake: it was one database before deployments had several.</summary>
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
    /// <summary>Databases protected by name. For HELLOJOHN_DATABASE_URL, the database it names.</summary>
    public List<string> Databases { get; set; } = [];
    /// <summary>Name patterns (<c>hellojohn_tenant_*</c>) evaluated again at every run.</summary>
    public List<string> Patterns { get; set; } = [];
    /// <summary>The server's own identity (its system identifier, else host:port), so two deployments of one server are
    /// recognised whatever address each was given.</summary>
    public string? ServerIdentity { get; set; }
    /// <summary>When an administrator removed it while backups or history still referred to it: it is no longer backed
    /// up nor offered, its connection is forgotten, and its backups stay in the catalog.</summary>
    public DateTimeOffset? RetiredAt { get; set; }

    public Deployments.DatabaseSelection Selection => new(Databases, Patterns);
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
        e.Property(x => x.ServerIdentity).HasMaxLength(128);
        e.Ignore(x => x.Selection);
    }
}
