using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace HelloJohn.Console.Core.Audit;

/// <summary>Refuses to save a change to, or the deletion of, an audit event through any console DbContext: the trail is
/// append-only, whatever a future page or service tries.</summary>
internal sealed class AppendOnlyAuditInterceptor : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private static void Check(DbContext? context)
    {
        if (context?.ChangeTracker.Entries<AuditEvent>().Any(e => e.State is EntityState.Modified or EntityState.Deleted) == true)
        {
            throw new InvalidOperationException("Audit events cannot be changed or deleted: the audit trail is append-only. Nothing was saved.");
        }
    }
}
