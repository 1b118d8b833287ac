using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Tells retention which backups passed a verification, so the newest verified one is never expired.</summary>
internal sealed class VerificationHistory(IDbContextFactory<ConsoleDbContext> dbFactory) : IBackupVerificationHistory
{
    public async Task<IReadOnlyDictionary<Guid, DateTimeOffset>> LastPassesAsync(Guid targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var passes = await db.Set<VerificationRun>().AsNoTracking()
            .Where(r => r.Run!.TargetId == targetId && r.Run.Status == RunStatus.Succeeded && r.BackupId != null && r.Run.FinishedAt != null)
            .GroupBy(r => r.BackupId!.Value)
            .Select(g => new { BackupId = g.Key, Last = g.Max(r => r.Run!.FinishedAt!.Value) })
            .ToListAsync(ct);
        return passes.ToDictionary(p => p.BackupId, p => p.Last);
    }
}
