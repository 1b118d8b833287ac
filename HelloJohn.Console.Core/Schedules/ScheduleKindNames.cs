namespace HelloJohn.Console.Core.Schedules;

/// <summary>What people call each kind of schedule, on the Schedules page and in the audit trail.</summary>
public static class ScheduleKindNames
{
    public static string Of(ScheduleKind kind) => kind switch
    {
        ScheduleKind.Backup => "Backup",
        ScheduleKind.Verification => "Verification",
        ScheduleKind.Retention => "Retention",
        ScheduleKind.Drill => "Recovery drill",
        _ => "JWKS check",
    };
}
