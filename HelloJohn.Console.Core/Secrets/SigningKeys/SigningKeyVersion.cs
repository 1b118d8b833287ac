using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Secrets.SigningKeys;

/// <summary>What the console knows about one escrowed version of a target's signing key: public facts only. The
/// private key itself is in the secret store, under <see cref="SecretName"/> and <see cref="VersionId"/>.</summary>
public class SigningKeyVersion
{
    public Guid Id { get; set; }
    public Guid TargetId { get; set; }
    public required string SecretName { get; set; }
    public SecretStoreKind Store { get; set; }
    public required string StoreLocation { get; set; }
    public required string VersionId { get; set; }
    /// <summary>RFC 7638 JWK thumbprint of the public key (base64url SHA-256).</summary>
    public required string Fingerprint { get; set; }
    /// <summary>The public key as the JWK's base64url <c>x</c>.</summary>
    public required string PublicKey { get; set; }
    public SigningKeyOrigin Origin { get; set; }
    public DateTimeOffset StoredAt { get; set; }
    public required string StoredBy { get; set; }
}

public enum SigningKeyOrigin
{
    Imported,
    Generated,
}

internal sealed class SigningKeyVersionConfiguration : IEntityTypeConfiguration<SigningKeyVersion>
{
    public void Configure(EntityTypeBuilder<SigningKeyVersion> e)
    {
        e.ToTable("signing_key_versions");
        e.Property(x => x.SecretName).HasMaxLength(512);
        e.Property(x => x.Store).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.StoreLocation).HasMaxLength(512);
        e.Property(x => x.VersionId).HasMaxLength(128);
        e.Property(x => x.Fingerprint).HasMaxLength(64);
        e.Property(x => x.PublicKey).HasMaxLength(64);
        e.Property(x => x.Origin).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.StoredBy).HasMaxLength(256);
        e.HasIndex(x => new { x.TargetId, x.StoredAt });
    }
}
