using HelloJohn.Console.Core.Security;

namespace HelloJohn.Console.Core.Audit;

/// <summary>Appends to the audit trail. Callers pass text without secrets; the log never reads them back for display.</summary>
public interface IAuditLog
{
    Task RecordAsync(Actor actor, string action, string? target, AuditOutcome outcome, string? detail = null, CancellationToken ct = default);
}
