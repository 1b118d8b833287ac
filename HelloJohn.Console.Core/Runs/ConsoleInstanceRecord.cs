using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Runs;

/// <summary>One console process's life on the shared console database. It is alive exactly as long as its session
/// holds the advisory lock on <see cref="LockKey"/>; the other columns are for people reading why a run ended.</summary>
public class ConsoleInstanceRecord
{
    public Guid Id { get; set; }
    /// <summary>The second half of the instance's advisory lock (the first is <see cref="ConsoleInstance.LockNamespace"/>).</summary>
    public int LockKey { get; set; }
    public required string Host { get; set; }
    public int ProcessId { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    /// <summary>When it stopped (said goodbye, or was found dead by a sweep).</summary>
    public DateTimeOffset? StoppedAt { get; set; }
}

internal sealed class ConsoleInstanceRecordConfiguration : IEntityTypeConfiguration<ConsoleInstanceRecord>
{
    public void Configure(EntityTypeBuilder<ConsoleInstanceRecord> e)
    {
        e.ToTable("console_instances");
        e.Property(x => x.LockKey).UseIdentityAlwaysColumn();
        e.HasIndex(x => x.LockKey).IsUnique();
        e.Property(x => x.Host).HasMaxLength(256);
        e.HasIndex(x => x.StoppedAt);
    }
}
