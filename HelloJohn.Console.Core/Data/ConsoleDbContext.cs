using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Targets;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Data;

/// <summary>The console's own database: catalog, runs, audit trail and users. Hangfire keeps its tables in the
/// <c>hangfire</c> schema of the same database.</summary>
public class ConsoleDbContext(DbContextOptions<ConsoleDbContext> options) : IdentityDbContext<ConsoleUser>(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<BackupTarget> Targets => Set<BackupTarget>();
    public DbSet<BackupRecord> Backups => Set<BackupRecord>();
    public DbSet<BackupTableCount> BackupTableCounts => Set<BackupTableCount>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // Each feature folder keeps its own IEntityTypeConfiguration next to its entity.
        builder.ApplyConfigurationsFromAssembly(typeof(ConsoleDbContext).Assembly);
    }
}
