using HelloJohn.Console.Core.Recovery.Steps;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>The drill: "database host failure" rehearsed against a scratch database on the target's own server, which
/// the console creates and always drops. Deploying and restarting are left out: a drill never touches HelloJohn.</summary>
internal static class DrillSteps
{
    public const string ScratchKey = "scratch-database";
    public const string DropKey = "drop-scratch";

    public static IReadOnlyList<RecoveryStepDefinition> All() =>
    [
        new()
        {
            Key = ScratchKey,
            Title = "Create a scratch database",
            Instructions = _ => [new($"The console creates an empty database named {DrillScratch.Prefix}<unix time> on the target's server, standing in for the new server of a real incident.")],
            Action = new("Create it"),
            Check = new(),
            Handler = typeof(ScratchDatabaseStep),
        },
        DatabaseHostSteps.ChooseBackup(automatic: true),
        DatabaseHostSteps.Restore(drill: true),
        DatabaseHostSteps.Verify(),
        new()
        {
            Key = DropKey,
            Title = "Drop the scratch database",
            Instructions = _ => [new("The console drops the scratch database. The drill's RTO stops at the verification; dropping is clean-up.")],
            Action = new("Drop it"),
            Check = new(),
            Handler = typeof(DropScratchStep),
            CountsForRto = false,
        },
    ];
}
