namespace HelloJohn.Console.Core.Security;

/// <summary>Every state-changing capability of the console. Core services check these, the UI hides what is not allowed.</summary>
public enum ConsolePermission
{
    ViewHistory,
    ViewAuditTrail,
    RunBackup,
    CancelBackup,
    DeleteBackup,
    PinBackup,
    VerifyBackup,
    RestoreToNewDatabase,
    RestoreInPlace,
    RunRecoveryWizard,
    ManageSchedules,
    ManageRetention,
    ManageStorage,
    ManageSettings,
    ManageUsers,
    ManageSecrets,
    RevealSecret,
    ViewJobsDashboard,
    /// <summary>Create, list and revoke one's own personal API tokens (they act with one's own role, never more).</summary>
    ManageOwnApiTokens,
    /// <summary>Download a backup file: it holds every user's data, password hashes included.</summary>
    DownloadBackup,
    /// <summary>Stop and delete a server a point-in-time restore left on the console's machine (a full copy of the data).</summary>
    RemoveRestoredServer,
}

public static class ConsolePermissions
{
    // The audit trail holds no secrets (callers never put one in it) and showing who did what is part of reading
    // the console's history, so every role may read it; nobody may change it.
    private static readonly HashSet<ConsolePermission> ViewerPermissions =
    [
        ConsolePermission.ViewHistory,
        ConsolePermission.ViewAuditTrail,
        ConsolePermission.ManageOwnApiTokens,
    ];

    private static readonly HashSet<ConsolePermission> OperatorPermissions =
    [
        .. ViewerPermissions,
        ConsolePermission.RunBackup,
        ConsolePermission.CancelBackup,
        ConsolePermission.VerifyBackup,
        ConsolePermission.RestoreToNewDatabase,
        ConsolePermission.RunRecoveryWizard,
    ];

    /// <summary>The roles holding <paramref name="permission"/>, in words ("Admin or Operator").</summary>
    public static string RolesWith(ConsolePermission permission) =>
        string.Join(" or ", ConsoleRoles.All.Where(r => RoleHas(r, permission)));

    /// <summary>What <paramref name="permission"/> lets someone do, as the end of "may not …".</summary>
    public static string Describe(ConsolePermission permission) => permission switch
    {
        ConsolePermission.ViewHistory => "read the console",
        ConsolePermission.ViewAuditTrail => "read the audit trail",
        ConsolePermission.RunBackup => "take backups",
        ConsolePermission.CancelBackup => "cancel backups",
        ConsolePermission.DeleteBackup => "delete backups",
        ConsolePermission.PinBackup => "pin backups",
        ConsolePermission.VerifyBackup => "verify backups",
        ConsolePermission.RestoreToNewDatabase => "restore into a new database",
        ConsolePermission.RestoreInPlace => "restore over the live database",
        ConsolePermission.RunRecoveryWizard => "run recovery wizards",
        ConsolePermission.ManageSchedules => "change schedules",
        ConsolePermission.ManageRetention => "apply retention",
        ConsolePermission.ManageStorage => "manage storage",
        ConsolePermission.ManageSettings => "change settings",
        ConsolePermission.ManageUsers => "manage users",
        ConsolePermission.ManageSecrets => "change escrowed keys and secrets",
        ConsolePermission.RevealSecret => "reveal secrets",
        ConsolePermission.ViewJobsDashboard => "open the jobs dashboard",
        ConsolePermission.RemoveRestoredServer => "remove restored servers",
        _ => permission.ToString(),
    };

    public static bool RoleHas(string role, ConsolePermission permission) => role switch
    {
        ConsoleRoles.Admin => true,
        ConsoleRoles.Operator => OperatorPermissions.Contains(permission),
        ConsoleRoles.Viewer => ViewerPermissions.Contains(permission),
        _ => false,
    };
}
