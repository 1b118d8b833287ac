namespace HelloJohn.Console.Core.Recovery;

/// <summary>The wizards the console offers, each an ordered list of steps.</summary>
public static class RecoveryScenarios
{
    public static IReadOnlyList<RecoveryScenarioInfo> All { get; } =
    [
        new(RecoveryScenario.DatabaseHostFailure, "Database host failure",
            "HelloJohn's PostgreSQL server is gone. Restore the latest verified backup into a new server, verify it, point HelloJohn at it."),
        new(RecoveryScenario.SigningKeyLost, "Signing key lost",
            "HELLOJOHN_JWT_SIGNING_KEY is lost. Generate and escrow a new Ed25519 key, deploy it, check the live JWKS. Users sign in again."),
        new(RecoveryScenario.PointInTime, "Point in time",
            "Data was damaged at a known moment. Recover the database to just before it with your provider, check the result, point HelloJohn at it."),
        new(RecoveryScenario.Drill, "Drill",
            "Rehearse a database host failure against a scratch database the console creates and drops, and measure the real RTO."),
    ];

    public static RecoveryScenarioInfo Info(RecoveryScenario scenario) => All.First(s => s.Scenario == scenario);

    public static IReadOnlyList<RecoveryStepDefinition> StepsOf(RecoveryScenario scenario) => scenario switch
    {
        RecoveryScenario.DatabaseHostFailure =>
        [
            DatabaseHostSteps.NewServer(),
            DatabaseHostSteps.ChooseBackup(automatic: false),
            DatabaseHostSteps.Restore(drill: false),
            DatabaseHostSteps.Verify(),
            DatabaseHostSteps.DeployUrl(),
            DatabaseHostSteps.Restart(),
            DatabaseHostSteps.Health(),
        ],
        RecoveryScenario.SigningKeyLost => SigningKeySteps.All(),
        RecoveryScenario.PointInTime => PointInTimeSteps.All(),
        RecoveryScenario.Drill => DrillSteps.All(),
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "Unknown recovery scenario."),
    };
}
