using HelloJohn.Console.Core.Recovery.Steps;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The steps of "database host failure" (and, with a scratch database, of the drill): new server, backup,
/// restore, verify, deploy the URL, restart, health.</summary>
internal static class DatabaseHostSteps
{
    public const string NewServerKey = "new-server";
    public const string ChooseBackupKey = "choose-backup";
    public const string RestoreKey = "restore";
    public const string VerifyKey = "verify";
    public const string DeployUrlKey = "deploy-url";
    public const string RestartKey = "restart";
    public const string HealthKey = "health";

    public static RecoveryStepDefinition NewServer() => new()
    {
        Key = NewServerKey,
        Title = "Connect the new PostgreSQL server",
        Instructions = c => ProviderInstructions.ProvisionDatabase(c.Provider),
        Inputs =
        [
            new("connection", "New database connection", InputKind.Secret, true, "postgres://user:password@host:5432/hellojohn, or Host=…;Username=…;Password=…;Database=…"),
            new("confirmNonEmpty", "Restore even though the database already holds tables", InputKind.Boolean, false,
                "The backup's tables are dropped and recreated; other tables stay. Leave unticked unless you know what is there."),
        ],
        TakesInput = true,
        Check = new(),
        Handler = typeof(NewServerStep),
    };

    public static RecoveryStepDefinition ChooseBackup(bool automatic) => new()
    {
        Key = ChooseBackupKey,
        Title = automatic ? "Pick the latest verified backup" : "Choose the backup to restore",
        Instructions = c =>
        [
            new(automatic
                ? "The drill restores the newest backup that passed a verification (the newest finished one when none has)."
                : "The newest backup that passed a restore verification is chosen for you. Its age at the incident is the data you lose (RPO): a newer unverified backup loses less but is less proven."),
        ],
        Inputs = automatic ? [] : [new("backup", "Backup", InputKind.Backup, true)],
        TakesInput = !automatic,
        Action = automatic ? new("Pick the backup") : null,
        Check = new(),
        Handler = typeof(ChooseBackupStep),
    };

    public static RecoveryStepDefinition Restore(bool drill) => new()
    {
        Key = RestoreKey,
        Title = drill ? "Restore into the scratch database" : "Restore into the new server",
        Instructions = c => [.. drill
            ? [new InstructionBlock("The console checks the file (SHA-256 against its manifest, pg_restore --list) and restores it into the scratch database.")]
            : ProviderInstructions.RestoreByHand(c.Provider, c.Run.BackupFileName ?? "hellojohn_YYYYMMDD_HHMMSS.dump")],
        Action = new("Restore now"),
        Check = new(),
        Handler = typeof(RestoreStep),
    };

    public static RecoveryStepDefinition Verify() => new()
    {
        Key = VerifyKey,
        Title = "Verify row counts against the manifest",
        Instructions = _ => [new("The console counts the rows of every table in the restored database and compares them with the counts taken in the backup's snapshot. Every table must match.")],
        Check = new(Polls: true),
        Handler = typeof(VerifyCountsStep),
    };

    public static RecoveryStepDefinition DeployUrl() => new()
    {
        Key = DeployUrlKey,
        Title = "Deploy the new HELLOJOHN_DATABASE_URL",
        Instructions = c =>
        [
            new("HelloJohn's new database URL (the copy button copies it with its password; it is never shown or logged):", c.MaskedNewDatabaseUrl, CopiesSecret: true),
            .. ProviderInstructions.SetDatabaseUrl(c.Provider),
        ],
        ManualReason = "The console cannot see HelloJohn's environment. Mark this done once every instance has the new URL; the health check below proves it.",
    };

    public static RecoveryStepDefinition Restart() => new()
    {
        Key = RestartKey,
        Title = "Restart HelloJohn",
        Instructions = c => ProviderInstructions.RestartInstances(c.Provider),
        ManualReason = "Restarts happen on your platform. Mark this done once the instances restarted; the next step checks that HelloJohn is healthy.",
    };

    public static RecoveryStepDefinition Health() => new()
    {
        Key = HealthKey,
        Title = "Wait until HelloJohn is healthy",
        Instructions = c => ProviderInstructions.HealthCheck(HealthProbe.UrlOf(c.Run, c.Target)),
        Inputs = [new("healthUrl", "Health URL", InputKind.Url, false, "Defaults to the target's base URL + /health.")],
        TakesInput = true,
        Check = new(Polls: true),
        Handler = typeof(HealthProbe),
    };
}
