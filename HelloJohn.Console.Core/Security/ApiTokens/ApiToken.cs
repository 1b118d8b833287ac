using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Security.ApiTokens;

/// <summary>A personal API token. Only its SHA-256 is kept; <see cref="Prefix"/> (the token's first characters, not
/// secret) finds it and lets its owner recognise it. It acts with its owner's role at the time of each request.</summary>
public class ApiToken
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    public required string Prefix { get; set; }
    /// <summary>Lower-case hex SHA-256 of the whole token.</summary>
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public string? LastUsedFrom { get; set; }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> e)
    {
        e.ToTable("api_tokens");
        e.Property(x => x.UserId).HasMaxLength(450);
        e.Property(x => x.Name).HasMaxLength(100);
        e.Property(x => x.Prefix).HasMaxLength(16);
        e.HasIndex(x => x.Prefix).IsUnique();
        e.Property(x => x.Hash).HasMaxLength(64);
        e.Property(x => x.RevokedBy).HasMaxLength(256);
        e.Property(x => x.LastUsedFrom).HasMaxLength(64);
        e.HasIndex(x => new { x.UserId, x.CreatedAt });
        // A deleted account takes its tokens with it.
        e.HasOne<ConsoleUser>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
