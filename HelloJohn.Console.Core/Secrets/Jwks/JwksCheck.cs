using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Secrets.Jwks;

/// <summary>One comparison of the escrowed signing key with the keys HelloJohn publishes. Kept for history; the
/// newest per target is what the dashboard shows.</summary>
public class JwksCheck
{
    public Guid Id { get; set; }
    public Guid TargetId { get; set; }
    public DateTimeOffset CheckedAt { get; set; }
    public JwksCheckOutcome Outcome { get; set; }
    public string? JwksUrl { get; set; }
    public string? EscrowedFingerprint { get; set; }
    public string? EscrowedVersionId { get; set; }
    /// <summary>Thumbprints of the Ed25519 keys the JWKS published, comma-separated.</summary>
    public string? PublishedFingerprints { get; set; }
    public string? MatchedKeyId { get; set; }
    public required string Detail { get; set; }
    public required string RequestedBy { get; set; }
}

public enum JwksCheckOutcome
{
    /// <summary>HelloJohn publishes the escrowed key: tokens it signs can be verified after a restore.</summary>
    Match,
    /// <summary>HelloJohn answered, but none of its keys is the escrowed one.</summary>
    Mismatch,
    /// <summary>No answer: connection refused, DNS, TLS, timeout, or an HTTP error status.</summary>
    Unreachable,
    /// <summary>An answer that is not a JWKS (malformed JSON, no "keys" array).</summary>
    Invalid,
    /// <summary>Nothing to compare: no key escrowed yet, or the target has no HelloJohn base URL.</summary>
    NotConfigured,
    /// <summary>The key is recorded but the secret store could not give it back.</summary>
    EscrowUnavailable,
}

internal sealed class JwksCheckConfiguration : IEntityTypeConfiguration<JwksCheck>
{
    public void Configure(EntityTypeBuilder<JwksCheck> e)
    {
        e.ToTable("jwks_checks");
        e.Property(x => x.Outcome).HasConversion<string>().HasMaxLength(32);
        e.Property(x => x.JwksUrl).HasMaxLength(600);
        e.Property(x => x.EscrowedFingerprint).HasMaxLength(64);
        e.Property(x => x.EscrowedVersionId).HasMaxLength(128);
        e.Property(x => x.PublishedFingerprints).HasMaxLength(2000);
        e.Property(x => x.MatchedKeyId).HasMaxLength(256);
        e.Property(x => x.Detail).HasMaxLength(2000);
        e.Property(x => x.RequestedBy).HasMaxLength(256);
        e.HasIndex(x => new { x.TargetId, x.CheckedAt });
    }
}
