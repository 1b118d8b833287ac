using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Secrets.Local;

/// <summary>One version of a secret in the local store, encrypted with Data Protection. Rows are only ever added.</summary>
public class StoredSecretVersion
{
    public long Id { get; set; }
    public required string Name { get; set; }
    /// <summary>1, 2, 3… per name; the highest is current.</summary>
    public int Version { get; set; }
    /// <summary>The Data Protection payload (base64url). Bound to <see cref="Name"/>, so a row copied under
    /// another name does not decrypt.</summary>
    public required string ProtectedValue { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class StoredSecretVersionConfiguration : IEntityTypeConfiguration<StoredSecretVersion>
{
    public void Configure(EntityTypeBuilder<StoredSecretVersion> e)
    {
        e.ToTable("secret_versions");
        e.Property(x => x.Name).HasMaxLength(512);
        e.HasIndex(x => new { x.Name, x.Version }).IsUnique();
    }
}
