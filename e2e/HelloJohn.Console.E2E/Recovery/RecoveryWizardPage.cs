using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Recovery;

/// <summary>The recovery wizard as an on-call engineer uses it, located by role, label and the wizard's test ids.</summary>
public sealed class RecoveryWizardPage(IPage page)
{
    public IPage Page => page;

    public ILocator StepView => page.GetByTestId("step-view");

    public ILocator CheckResult => page.GetByTestId("check-result");

    public ILocator RunStatus => page.GetByTestId("run-status");

    public ILocator Log => page.GetByTestId("wizard-log");

    public ILocator StepperItem(string key) => page.GetByTestId($"stepper-{key}");

    public async Task StartAsync(string scenarioTitle)
    {
        // The prerendered page shows the buttons before they answer; wait for the live circuit.
        await Assertions.Expect(page.GetByTestId("recovery-header")).ToHaveAttributeAsync("data-interactive", "true");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Start {scenarioTitle}" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/recovery/", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByTestId("wizard-header")).ToHaveAttributeAsync("data-interactive", "true");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = scenarioTitle })).ToBeVisibleAsync();
    }

    /// <summary>Opens a run by its address, as a second engineer resuming it would.</summary>
    public async Task OpenRunAsync(string url)
    {
        await page.GotoAsync(url);
        await Assertions.Expect(page.GetByTestId("wizard-header")).ToHaveAttributeAsync("data-interactive", "true");
    }

    /// <summary>Waits until the open step is <paramref name="key"/> (the page follows the run by itself).</summary>
    public async Task OnStepAsync(string key) =>
        await Assertions.Expect(StepView).ToHaveAttributeAsync("data-step", key);

    public async Task FillAsync(string label, string value) => await page.GetByLabel(label).FillAsync(value);

    public async Task PressAsync(string button) => await StepView.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();

    /// <summary>Waits until the step passed; when it failed instead, the failure says what the page said (its
    /// message and log), not only that the status differs.</summary>
    public async Task WaitPassedAsync(string key, int timeoutMs = 120_000)
    {
        var item = StepperItem(key);
        await Assertions.Expect(item).ToHaveAttributeAsync("data-status", new System.Text.RegularExpressions.Regex("^(passed|failed)$"), new() { Timeout = timeoutMs });
        if (await item.GetAttributeAsync("data-status") == "failed")
        {
            var log = await Log.CountAsync() > 0 ? await Log.InnerTextAsync() : "";
            throw new Xunit.Sdk.XunitException($"Step {key} failed: {await page.Locator("body").InnerTextAsync()}\n{log}");
        }
    }
}
