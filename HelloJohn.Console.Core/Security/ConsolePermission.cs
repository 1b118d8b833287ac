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

    public static bool RoleHas(string role, ConsolePermission permission) => role switch
    {
        ConsoleRoles.Admin => true,
        ConsoleRoles.Operator => OperatorPermissions.Contains(permission),
        ConsoleRoles.Viewer => ViewerPermissions.Contains(permission),
        _ => false,
    };
}
