using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Deployments;

/// <summary>What the console last found about one database of a deployment's server: protected (selected), found but
/// not selected, or gone (selected before, missing now). A gone database stays here, reported on the Dashboard and in
/// every set, until an administrator acknowledges it: nothing drops out of protection silently.</summary>
public class DeploymentDatabase
{
    public Guid TargetId { get; set; }
    public required string Name { get; set; }
    public DeploymentDatabaseState State { get; set; }
    /// <summary>"listed" or the pattern that selects it; null when not selected.</summary>
    public string? SelectedBy { get; set; }
    /// <summary>On-disk size when last looked at (pg_database_size), for the Dashboard and for ordering a set's members.</summary>
    public long? SizeBytes { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    /// <summary>Since when a selected database has been missing from its server.</summary>
    public DateTimeOffset? GoneSince { get; set; }
}

public enum DeploymentDatabaseState
{
    /// <summary>Selected and found: every set backs it up.</summary>
    Protected,
    /// <summary>Found on the server, selected by nothing.</summary>
    NotProtected,
    /// <summary>Selected and seen before, missing now.</summary>
    Gone,
}

internal sealed class DeploymentDatabaseConfiguration : IEntityTypeConfiguration<DeploymentDatabase>
{
    public void Configure(EntityTypeBuilder<DeploymentDatabase> e)
    {
        e.ToTable("deployment_databases");
        e.HasKey(x => new { x.TargetId, x.Name });
        e.Property(x => x.Name).HasMaxLength(128);
        e.Property(x => x.State).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.SelectedBy).HasMaxLength(256);
        e.HasOne<BackupTarget>().WithMany().HasForeignKey(x => x.TargetId).OnDelete(DeleteBehavior.Cascade);
    }
}
