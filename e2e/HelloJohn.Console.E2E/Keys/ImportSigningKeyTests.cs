using HelloJohn.Console.E2E.Infrastructure;
using HelloJohn.Console.E2E.Pages;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Keys;

[Trait("Capability", "E2E")]
[Collection(ConsoleServerCollection.Name)]
public sealed class ImportSigningKeyTests(ConsoleServerFixture server)
{
    /// <summary>RFC 8037 appendix A.1's Ed25519 private key d (base64url). It protects nothing.</summary>
    private static readonly string Rfc8037D = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "rfc8037-ed25519-d.txt")).Trim();

    /// <summary>That key as PKCS#8 DER, base64: the fixed 16-byte Ed25519 PrivateKeyInfo prefix, then d.</summary>
    private static readonly string Body = Convert.ToBase64String(
        [.. Convert.FromHexString("302e020100300506032b657004220420"), .. Convert.FromBase64String(Rfc8037D.Replace('-', '+').Replace('_', '/') + "=")]);

    private static readonly string Pem = "-----BEGIN PRIVATE KEY-----\n" + Body + "\n-----END PRIVATE KEY-----\n";

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

    [Fact]
    public async Task HugePaste_IsRefusedSayingTheSizeLimit()
    {
        // 100,000 characters used to be dropped on the way to the server without a word (the button stayed disabled).
        var app = new ConsoleApp(await server.NewPageAsync());
        await app.SignInAsync(ConsoleServerFixture.AdminEmail, ConsoleServerFixture.AdminPassword);
        await app.OpenAsync("Keys & secrets");
        var keys = new KeysPage(app.Page);

        await keys.ImportPastedKeyAsync(new string('A', 100_000));

        await Assertions.Expect(keys.ImportError).ToContainTextAsync("the most this box takes is 65,536 (a longer paste is cut there)");
        await Assertions.Expect(keys.ImportError).ToContainTextAsync("Nothing was stored.");
        await Assertions.Expect(app.Page.GetByText("65536 / 65536")).ToBeVisibleAsync();
        await app.Page.GetByTestId("key-import").ScreenshotAsync(new() { Path = Path.Combine(server.ScreenshotDirectory, "keys-huge-paste.png") });
    }
}
