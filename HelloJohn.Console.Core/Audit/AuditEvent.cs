namespace HelloJohn.Console.Core.Audit;

/// <summary>One state change, as the audit trail keeps it. Never edited, never deleted.</summary>
public class AuditEvent
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public string? UserId { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public string? Target { get; set; }
    public AuditOutcome Outcome { get; set; }
    /// <summary>Free text for people. Never holds a secret.</summary>
    public string? Detail { get; set; }
}

public enum AuditOutcome
{
    Succeeded,
    Failed,
    Denied,
}
