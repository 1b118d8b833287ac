using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Security;

/// <summary>A one-time link with which a person sets their own password. Only the SHA-256 of its token is kept, so the
/// database alone cannot be turned into working links.</summary>
public class AccountInvite
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public ConsoleUser? User { get; set; }
    /// <summary>Lower-case hex SHA-256 of the token in the link.</summary>
    public required string TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public required string CreatedBy { get; set; }
    /// <summary>When the link was used; it cannot be used again.</summary>
    public DateTimeOffset? UsedAt { get; set; }
    /// <summary>When a newer link replaced it.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class AccountInviteConfiguration : IEntityTypeConfiguration<AccountInvite>
{
    public void Configure(EntityTypeBuilder<AccountInvite> e)
    {
        e.ToTable("account_invites");
        e.Property(x => x.UserId).HasMaxLength(450);
        e.Property(x => x.TokenHash).HasMaxLength(64);
        e.Property(x => x.CreatedBy).HasMaxLength(256);
        e.HasIndex(x => x.TokenHash).IsUnique();
        e.HasIndex(x => x.UserId);
        e.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
