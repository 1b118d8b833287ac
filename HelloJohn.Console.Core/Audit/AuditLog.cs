using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Audit;

internal sealed class AuditLog(IDbContextFactory<ConsoleDbContext> dbFactory, TimeProvider time) : IAuditLog
{
    public async Task RecordAsync(Actor actor, string action, string? target, AuditOutcome outcome, string? detail = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.AuditEvents.Add(new AuditEvent
        {
            At = time.GetUtcNow(),
            UserId = actor.UserId,
            Actor = actor.Name,
            Action = action,
            Target = target,
            Outcome = outcome,
            Detail = detail,
        });
        // The audit record must survive the caller's cancellation: a cancelled action is still recorded.
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
