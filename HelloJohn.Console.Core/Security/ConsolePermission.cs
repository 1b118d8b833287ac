namespace HelloJohn.Console.Core.Security;

/// <summary>Every state-changing capability of the console. Core services check these, the UI hides what is not allowed.</summary>
public enum ConsolePermission
{
    ViewHistory,
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
}

public static class ConsolePermissions
{
    private static readonly HashSet<ConsolePermission> OperatorPermissions =
    [
        ConsolePermission.ViewHistory,
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
        ConsoleRoles.Viewer => permission == ConsolePermission.ViewHistory,
        _ => false,
    };
}
