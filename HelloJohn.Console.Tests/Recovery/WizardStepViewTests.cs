using Bunit;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Tests.Components;
using HelloJohn.Console.Web.Components.Controls;

namespace HelloJohn.Console.Tests.Recovery;

[Trait("Capability", "Recovery")]
public sealed class WizardStepViewTests : ConsoleComponentTest
{
    private static RecoveryStepView Step(
        string key = "new-server",
        RecoveryStepStatus status = RecoveryStepStatus.Pending,
        bool current = true,
        bool manual = false,
        IReadOnlyList<InputField>? inputs = null,
        IReadOnlyList<InstructionBlock>? instructions = null,
        string? message = null,
        string? actionLabel = null) =>
        new(1, key, "Connect the new PostgreSQL server", status, current, manual, actionLabel is not null, actionLabel,
            manual ? "The console cannot see HelloJohn's environment." : null, null,
            instructions ?? [new("Create the database:"), new("", "sudo -u postgres createdb --owner=hellojohn hellojohn")],
            inputs ?? [], message, null, null, null, false, 0);

    private static readonly IReadOnlyList<InputField> ServerInputs =
    [
        new("connection", "New database connection", InputKind.Secret, true),
        new("confirmNonEmpty", "Restore even though the database already holds tables", InputKind.Boolean, false),
    ];

    [Fact]
    public async Task Check_OnTheCurrentInputStep_SendsTheTypedValuesAndClearsThePassword()
    {
        IReadOnlyDictionary<string, string?>? sent = null;
        var cut = Render<WizardStepView>(ps => ps
            .Add(p => p.Step, Step(inputs: ServerInputs))
            .Add(p => p.CanAct, true)
            .Add(p => p.OnAdvance, (IReadOnlyDictionary<string, string?> v) => sent = v));

        Assert.Contains("sudo -u postgres createdb --owner=hellojohn hellojohn", cut.Find("[data-testid=wizard-command]").TextContent);
        var password = cut.Find("input[type=password]");
        await password.InputAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "postgres://hj:pw@new-db:5432/hellojohn" });
        await cut.Find("input[type=checkbox]").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = true });
        await cut.FindAll("button").Single(b => b.TextContent.Trim() == "Check").ClickAsync(new());

        Assert.NotNull(sent);
        Assert.Equal("postgres://hj:pw@new-db:5432/hellojohn", sent["connection"]);
        Assert.Equal("true", sent["confirmNonEmpty"]);
        Assert.DoesNotContain("pw@new-db", cut.Markup);
    }

    [Fact]
    public void Render_AStepThatIsNotOpenYet_OffersNoButtonAndSaysWhy()
    {
        var cut = Render<WizardStepView>(ps => ps.Add(p => p.Step, Step(current: false, inputs: ServerInputs)).Add(p => p.CanAct, true));

        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() is "Check" or "Mark done");
        Assert.Empty(cut.FindAll("input[type=password]"));
        Assert.Contains("opens once every step before it has passed", cut.Markup);
    }

    [Fact]
    public void Render_ForAViewer_OffersNoButton()
    {
        var cut = Render<WizardStepView>(ps => ps.Add(p => p.Step, Step(inputs: ServerInputs)).Add(p => p.CanAct, false));

        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() == "Check");
    }

    [Fact]
    public async Task MarkDone_OnAManualStep_ShowsWhyAndRaisesTheCallback()
    {
        var marked = false;
        var cut = Render<WizardStepView>(ps => ps
            .Add(p => p.Step, Step(key: "restart", manual: true))
            .Add(p => p.CanAct, true)
            .Add(p => p.OnMarkDone, () => marked = true));

        Assert.Contains("The console cannot see HelloJohn's environment.", cut.Markup);
        await cut.FindAll("button").Single(b => b.TextContent.Trim() == "Mark done").ClickAsync(new());
        Assert.True(marked);
    }

    [Fact]
    public void Render_ARunningStep_ShowsProgressAndNoButton()
    {
        var cut = Render<WizardStepView>(ps => ps.Add(p => p.Step, Step(key: "restore", status: RecoveryStepStatus.Running, actionLabel: "Restore now")).Add(p => p.CanAct, true));

        Assert.Contains("Running…", cut.Find("[data-testid=step-running]").TextContent);
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() == "Restore now");
        Assert.Equal("running", cut.Find("[data-testid=step-view]").GetAttribute("data-status"));
    }

    [Fact]
    public void Render_AFailedCheck_ShowsItsMessageAndLetsItRunAgain()
    {
        const string error = "Could not reach the new server 10.0.0.9:5432 (Connection refused). Nothing was restored.";
        var cut = Render<WizardStepView>(ps => ps
            .Add(p => p.Step, Step(key: "restore", status: RecoveryStepStatus.Failed, message: error, actionLabel: "Restore now"))
            .Add(p => p.CanAct, true));

        Assert.Equal(error, cut.Find("[data-testid=check-result]").TextContent.Trim());
        Assert.Contains("mud-alert-text-error", cut.Find("[data-testid=check-result]").ClassName);
        Assert.Single(cut.FindAll("button"), b => b.TextContent.Trim() == "Restore now");
    }

    [Fact]
    public async Task Copy_OfAMaskedSecret_ShowsTheMaskButCopiesTheRealValue()
    {
        const string masked = "postgres://hellojohn:••••••••@new-db:5432/hellojohn";
        const string real = "postgres://hellojohn:Real-Pa55@new-db:5432/hellojohn";
        var revealed = 0;
        Context.JSInterop.SetupVoid("navigator.clipboard.writeText", real);
        var cut = Render<WizardStepView>(ps => ps
            .Add(p => p.Step, Step(key: "deploy-url", manual: true, instructions: [new("The new URL:", masked, CopiesSecret: true)]))
            .Add(p => p.CanAct, true)
            .Add(p => p.RevealSecret, () => { revealed++; return Task.FromResult(real); }));

        Assert.Contains(masked, cut.Find("[data-testid=wizard-command]").TextContent);
        Assert.DoesNotContain("Real-Pa55", cut.Markup);
        await cut.Find("[data-testid=wizard-command] button").ClickAsync(new());

        Assert.Equal(1, revealed);
        Assert.Single(Context.JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText" && (string)i.Arguments[0]! == real);
        Assert.DoesNotContain("Real-Pa55", cut.Markup);
    }

    [Fact]
    public async Task Check_OnABackupChoice_SendsTheDefaultCandidate()
    {
        var newest = new BackupCandidate(Guid.NewGuid(), "hellojohn_20261125_020000.dump", DateTimeOffset.UtcNow.AddHours(-3), null, "15.18", 2_000_000, TimeSpan.FromHours(3), false);
        var verified = new BackupCandidate(Guid.NewGuid(), "hellojohn_20261124_020000.dump", DateTimeOffset.UtcNow.AddHours(-27), DateTimeOffset.UtcNow.AddHours(-20), "15.18", 2_000_000, TimeSpan.FromHours(27), true);
        IReadOnlyDictionary<string, string?>? sent = null;
        var cut = Render<WizardStepView>(ps => ps
            .Add(p => p.Step, Step(key: "choose-backup", inputs: [new("backup", "Backup", InputKind.Backup, true)]))
            .Add(p => p.Candidates, [newest, verified])
            .Add(p => p.CanAct, true)
            .Add(p => p.OnAdvance, (IReadOnlyDictionary<string, string?> v) => sent = v));

        await cut.FindAll("button").Single(b => b.TextContent.Trim() == "Check").ClickAsync(new());

        Assert.Equal(verified.Id.ToString(), sent!["backup"]);
        Assert.Contains("verified", WizardStepView.CandidateText(verified));
        Assert.Contains("loses 1 d 3 h", WizardStepView.CandidateText(verified));
        Assert.Contains("not verified", WizardStepView.CandidateText(newest));
    }

    [Fact]
    public void Stepper_ShowsEachStepsStateInOrder()
    {
        var steps = new[]
        {
            Step(key: "new-server", status: RecoveryStepStatus.Passed, current: false) with { Position = 1, CompletedAt = DateTimeOffset.UtcNow },
            Step(key: "choose-backup", status: RecoveryStepStatus.Failed) with { Position = 2, Title = "Choose the backup to restore" },
            Step(key: "restore", current: false) with { Position = 3, Title = "Restore into the new server" },
        };

        var cut = Render<WizardStepper>(ps => ps.Add(p => p.Steps, steps));

        Assert.Equal(["passed", "failed", "pending"], cut.FindAll("[data-testid^=stepper-]").Select(e => e.GetAttribute("data-status")));
        Assert.Contains("3. Restore into the new server", cut.Find("[data-testid=stepper-restore]").TextContent);
        Assert.Contains("waiting for the steps before", cut.Find("[data-testid=stepper-restore]").TextContent);
        Assert.Contains("failed · can be run again", cut.Find("[data-testid=stepper-choose-backup]").TextContent);
    }
}
