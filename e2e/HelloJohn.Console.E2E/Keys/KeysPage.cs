using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Keys;

/// <summary>The Keys &amp; secrets page, by what a person reads and presses.</summary>
public sealed class KeysPage(IPage page)
{
    public ILocator PastedKey => page.GetByLabel("Private key (PEM)");

    public ILocator Fingerprint => page.GetByTestId("key-fingerprint");

    public ILocator ImportError => page.GetByTestId("import-error");

    public async Task ImportPastedKeyAsync(string pem)
    {
        // The prerendered page shows the form before it answers; wait for the live circuit.
        await Assertions.Expect(page.GetByTestId("keys-header")).ToHaveAttributeAsync("data-interactive", "true");
        await PastedKey.FillAsync(pem);
        await page.GetByRole(AriaRole.Button, new() { Name = "Import pasted key" }).ClickAsync();
    }
}
