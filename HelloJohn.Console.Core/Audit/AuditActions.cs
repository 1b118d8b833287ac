namespace HelloJohn.Console.Core.Audit;

/// <summary>The names of audited actions, so filters and tests agree on spelling.</summary>
public static class AuditActions
{
    public const string BackupRequested = "backup.requested";
    public const string BackupCancelled = "backup.cancelled";
    public const string BackupFinished = "backup.finished";
    public const string BackupUploadRetried = "backup.upload_retried";
    public const string BackupDeleted = "backup.deleted";
    public const string BackupPinned = "backup.pinned";
    public const string BackupReconciled = "backup.reconciled";
    public const string VerificationRequested = "verification.requested";
    public const string VerificationFinished = "verification.finished";
    public const string VerificationCancelled = "verification.cancelled";
    public const string RestoreRequested = "restore.requested";
    public const string RestoreFinished = "restore.finished";
    public const string RestoreCancelled = "restore.cancelled";
    public const string SignInSucceeded = "signin.succeeded";
    public const string SignInFailed = "signin.failed";
    public const string SignedOut = "signout";
    public const string PasswordChanged = "account.password_changed";
    public const string SetupAdminCreated = "setup.admin_created";
    public const string UserCreated = "user.created";
    public const string UserRoleChanged = "user.role_changed";
    public const string UserDisabled = "user.disabled";
    public const string UserEnabled = "user.enabled";
    public const string UserPasswordReset = "user.password_reset";
    public const string UserUnlocked = "user.unlocked";
    public const string UserInvited = "user.invited";
    public const string InviteAccepted = "user.invite_accepted";
    public const string UserTwoFactorReset = "user.two_factor_reset";
    public const string TwoFactorEnabled = "account.two_factor_enabled";
    public const string TwoFactorDisabled = "account.two_factor_disabled";
    public const string RecoveryCodesRenewed = "account.recovery_codes_renewed";
    public const string AuditExported = "audit.exported";
    /// <summary>Reading the audit trail or the accounts: recorded only when refused.</summary>
    public const string AuditRead = "audit.read";
    public const string UsersRead = "users.read";
    public const string ApiTokensRead = "apitoken.read";
    public const string NotificationChannelsRead = "notification.channels_read";
    public const string SettingsChanged = "settings.changed";
    public const string TargetConnectionSet = "target.connection_set";
    public const string SetRequested = "set.requested";
    public const string SetFinished = "set.finished";
    public const string SetRetried = "set.retried";
    public const string SetCancelled = "set.cancelled";
    public const string SetPinned = "set.pinned";
    public const string SetRolesDownloaded = "set.roles_downloaded";
    public const string SetRolesApplied = "set.roles_applied";
    public const string SetVerificationRequested = "set.verification_requested";
    public const string SetVerificationFinished = "set.verification_finished";
    public const string SetRestoreRequested = "set.restore_requested";
    public const string SetDeleted = "set.deleted";
    public const string DeploymentAdded = "deployment.added";
    public const string DeploymentChanged = "deployment.changed";
    public const string DeploymentRemoved = "deployment.removed";
    public const string DeploymentGoneAcknowledged = "deployment.gone_acknowledged";
    public const string ScheduleChanged = "schedule.changed";
    public const string RetentionRun = "retention.run";
    public const string CatalogRebuilt = "catalog.rebuilt";
    public const string SecretStored = "secret.stored";
    public const string SecretRevealed = "secret.revealed";
    public const string SigningKeyImported = "signingkey.imported";
    public const string SigningKeyGenerated = "signingkey.generated";
    public const string SigningKeyDownloaded = "signingkey.downloaded";
    /// <summary>A comparison with HelloJohn's live JWKS: each result is kept as a check record; recorded here only when refused.</summary>
    public const string SigningKeyChecked = "signingkey.checked";
    public const string RecoveryStarted = "recovery.started";
    public const string RecoveryStep = "recovery.step";
    public const string PitrBaseBackupRequested = "pitr.basebackup_requested";
    public const string PitrRestoreRequested = "pitr.restore_requested";
    public const string PitrRestoreFinished = "pitr.restore_finished";
    public const string PitrBaseBackupFinished = "pitr.basebackup_finished";
    public const string PitrBaseBackupCancelled = "pitr.basebackup_cancelled";
    public const string PitrRestoreCancelled = "pitr.restore_cancelled";
    public const string PitrStreamingPaused = "pitr.streaming_paused";
    public const string PitrStreamingResumed = "pitr.streaming_resumed";
    public const string PitrRestoredServerStopped = "pitr.restored_server_stopped";
    public const string PitrRestoredServerStarted = "pitr.restored_server_started";
    public const string PitrRestoredServerRemoved = "pitr.restored_server_removed";
    public const string BackupDownloaded = "backup.downloaded";
    public const string NotificationChannelCreated = "notification.channel_created";
    public const string NotificationChannelChanged = "notification.channel_changed";
    public const string NotificationChannelDeleted = "notification.channel_deleted";
    public const string NotificationChannelTested = "notification.channel_tested";
    public const string NotificationSecretRotated = "notification.secret_rotated";
    public const string ApiTokenCreated = "apitoken.created";
    public const string ApiTokenRevoked = "apitoken.revoked";
    public const string ApiCall = "api.call";

    /// <summary>Every action name above, for the Audit page's filter.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        .. typeof(AuditActions).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal),
    ];
}
