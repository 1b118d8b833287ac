using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Keys;

[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class ImportSigningKeyTests(ConsoleServerFixture server)
{
    /// <summary>RFC 8037 appendix A.1's Ed25519 key as PKCS#8 PEM. It protects nothing.</summary>
    private const string Body = "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";
    private const string Pem = "-----BEGIN PRIVATE KEY-----\n" + Body + "\n-----END PRIVATE KEY-----\n";

    /// <summary>RFC 8037 appendix A.3: that key's JWK thumbprint.</summary>
    private const string Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    [Fact]
    public async Task ImportPastedKey_AsAdmin_ShowsItsFingerprintAndNotTheKey()
    {
        var app = new ConsoleApp(await server.NewPageAsync());
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Keys & secrets");
        var keys = new KeysPage(app.Page);

        await keys.ImportPastedKeyAsync(Pem);

        await Assertions.Expect(keys.Fingerprint).ToHaveTextAsync(Thumbprint);
        await Assertions.Expect(keys.PastedKey).ToHaveValueAsync("");
        await Assertions.Expect(app.Page.Locator("body")).Not.ToContainTextAsync(Body[..24]);
        Assert.DoesNotContain(Body[..24], await app.Page.ContentAsync(), StringComparison.Ordinal);
        await server.ScreenshotAsync(app.Page, "keys");

        await app.OpenAsync("Schedules & retention");
        await Assertions.Expect(app.Page.GetByTestId("schedule-Backup")).ToContainTextAsync("0 2 * * *");
        await Assertions.Expect(app.Page.GetByTestId("retention-policy")).ToBeVisibleAsync();
        await server.ScreenshotAsync(app.Page, "schedules");
    }
}
