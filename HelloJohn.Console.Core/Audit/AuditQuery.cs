namespace HelloJohn.Console.Core.Audit;

/// <summary>What to look for in the audit trail. Every part is optional; <see cref="From"/> is inclusive and
/// <see cref="To"/> exclusive.</summary>
public sealed record AuditFilter(string? User = null, string? Action = null, AuditOutcome? Outcome = null, DateTimeOffset? From = null, DateTimeOffset? To = null)
{
    public static AuditFilter None { get; } = new();

    /// <summary>A short description for the export's own audit event, e.g. "action signin.failed, since 2026-01-01".</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(User))
        {
            parts.Add($"user contains '{User.Trim()}'");
        }

        if (!string.IsNullOrWhiteSpace(Action))
        {
            parts.Add($"action {Action.Trim()}");
        }

        if (Outcome is { } outcome)
        {
            parts.Add($"outcome {outcome}");
        }

        if (From is { } from)
        {
            parts.Add($"from {from.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z");
        }

        if (To is { } to)
        {
            parts.Add($"to {to.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z");
        }

        return parts.Count == 0 ? "no filter" : string.Join(", ", parts);
    }
}

/// <summary>One audit event as people read it. <see cref="TargetName"/> names what <see cref="Target"/> points at by id
/// (a schedule, a backup, a run) when the console still knows it.</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string? UserId, string Action, string? Target, AuditOutcome Outcome, string? Detail,
    string? TargetName = null);

/// <summary>One page of events, newest first, with the number of events matching the filter.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int TotalCount, int PageIndex, int PageSize);
