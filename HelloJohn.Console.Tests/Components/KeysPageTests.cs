using Bunit;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Secrets.Configuration;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Infrastructure;
using HelloJohn.Console.Tests.Secrets;
using HelloJohn.Console.Web.Components.Pages;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Components;

/// <summary>The Keys &amp; secrets page on the real escrow services: the private key is never part of the rendered page,
/// bad input shows the service's message and stores nothing, and buttons follow the role.</summary>
[Trait("Capability", "Secrets")]
[Collection(PostgresCollection.Name)]
public sealed class KeysPageTests(ConsolePageFixture app) : ConsolePageTest(app), IClassFixture<ConsolePageFixture>
{
    private const string DownloadModule = "./Components/Pages/Keys.razor.js";

    private static string Body(string pem) =>
        string.Concat(pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)));

    private static void Paste(IRenderedComponent<IComponent> page, string text) =>
        page.WaitForElement("textarea[data-testid=key-paste]").Input(text);

    /// <summary>Clicks a button once it is enabled: a text field passes its value on asynchronously, and the buttons
    /// stay disabled until there is something to send, so a click right after typing can land on a disabled button.</summary>
    private static void ClickTestId(IRenderedComponent<IComponent> page, string testId)
    {
        var selector = $"[data-testid={testId}]";
        page.WaitForAssertion(() => Assert.False(page.Find(selector).HasAttribute("disabled"), $"{testId} is still disabled"));
        page.Find(selector).Click();
    }

    private Task<IReadOnlyList<SigningKeyStatus>> VersionsAsync() => Service<SigningKeyService>().ListVersionsAsync(App.TargetId);

    [Fact]
    public void Import_PastedKey_ShowsItsFingerprintAndNeverTheKeyText()
    {
        var pem = TestKeys.Rfc8037Pem();
        var page = RenderPage<Keys>(ConsoleRoles.Admin);

        Paste(page, pem);
        ClickTestId(page, "import-key");

        // Other tests of this class may have escrowed the same key already, so its fingerprint alone does not show this
        // import finished; the cleared paste box does.
        page.WaitForAssertion(() => Assert.DoesNotContain(Body(pem)[..24], page.Markup));
        page.WaitForAssertion(() => Assert.Equal(TestKeys.Rfc8037Thumbprint, page.Find("[data-testid=key-fingerprint]").TextContent.Trim()));
        Assert.Contains("EdDSA (Ed25519)", page.Markup);
        Assert.Empty(page.FindAll("[data-testid=import-error]"));
        Assert.DoesNotContain(Body(pem), page.Markup);
        Assert.DoesNotContain(Body(pem)[..24], page.Markup);
        Assert.Equal("", page.WaitForElement("textarea[data-testid=key-paste]").GetAttribute("value") ?? "");
    }

    [Fact]
    public async Task Import_UploadedPemFile_ShowsTheFingerprintOpenSslsPublicKeyGives()
    {
        var expected = JwkThumbprint.ForEd25519(Convert.FromHexString(TestKeys.OpenSslEd25519PublicKeyHex));
        var before = (await VersionsAsync()).Count;
        var page = RenderPage<Keys>(ConsoleRoles.Admin);

        page.WaitForComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(TestKeys.OpenSslEd25519Pem, "signing_key.pem"));

        page.WaitForAssertion(() => Assert.Equal(expected, page.Find("[data-testid=key-fingerprint]").TextContent.Trim()));
        Assert.Equal(before + 1, (await VersionsAsync()).Count);
        Assert.DoesNotContain(TestKeys.OpenSslEd25519Body, page.Markup);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "not a key at all", "Nothing was stored" },
        { TestKeys.Ed448Pem, "Ed448" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Import_BadInput_ShowsTheServicesMessageAndStoresNothing(string input, string expected)
    {
        var before = await VersionsAsync();
        var page = RenderPage<Keys>(ConsoleRoles.Admin);

        Paste(page, input);
        ClickTestId(page, "import-key");

        page.WaitForAssertion(() => Assert.Contains(expected, page.Find("[data-testid=import-error]").TextContent));
        var message = Assert.Throws<InvalidSigningKeyException>(() => SigningKeyPem.Parse(input)).Message;
        Assert.Equal(message, page.WaitForElement("[data-testid=import-error]").TextContent.Trim());
        Assert.Equal(before.Select(v => v.VersionId), (await VersionsAsync()).Select(v => v.VersionId));
    }

    [Fact]
    public void Import_OversizedFile_IsRefusedWithTheServicesSizeMessage()
    {
        var page = RenderPage<Keys>(ConsoleRoles.Admin);

        page.WaitForComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(new byte[SigningKeyService.MaxFileBytes + 10], "huge.pem"));

        page.WaitForAssertion(() => Assert.Contains($"larger than {SigningKeyService.MaxFileBytes / 1024} KiB", page.Find("[data-testid=import-error]").TextContent));
    }

    [Fact]
    public async Task Generate_AsAdmin_HandsThePemToOneDownloadAndRendersOnlyItsFingerprint()
    {
        var module = Context.JSInterop.SetupModule(DownloadModule);
        module.SetupVoid("downloadText", _ => true).SetVoidResult();
        var page = RenderPage<Keys>(ConsoleRoles.Admin, "admin@example.test");

        ClickTestId(page, "generate-key");
        Confirm(page, "Generate and download");

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=deploy-steps]")));
        var download = Assert.Single(module.Invocations, i => i.Identifier == "downloadText");
        var pem = Assert.IsType<string>(download.Arguments[1]);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pem);
        Assert.EndsWith(".pem", Assert.IsType<string>(download.Arguments[0]));
        var fingerprint = SigningKeyPem.Parse(pem).Fingerprint;
        Assert.Equal(fingerprint, page.WaitForElement("[data-testid=key-fingerprint]").TextContent.Trim());
        Assert.Contains("HELLOJOHN_JWT_SIGNING_KEY", page.WaitForElement("[data-testid=deploy-steps]").TextContent);
        Assert.DoesNotContain(Body(pem), page.Markup);

        await using var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var downloaded = await db.AuditEvents.Where(e => e.Action == AuditActions.SigningKeyDownloaded && e.Actor == "admin@example.test").ToListAsync();
        var version = (await VersionsAsync())[0].VersionId;
        Assert.Contains(downloaded, e => e.Outcome == AuditOutcome.Succeeded && e.Detail!.Contains(version, StringComparison.Ordinal));
        Assert.DoesNotContain(downloaded, e => e.Detail!.Contains(Body(pem)[..24], StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ConsoleRoles.Admin, true, true)]
    [InlineData(ConsoleRoles.Operator, false, true)]
    [InlineData(ConsoleRoles.Viewer, false, false)]
    public void Render_ByRole_ShowsOnlyTheButtonsTheRoleMayUse(string role, bool manages, bool checks)
    {
        var page = RenderPage<Keys>(role);

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=configuration-escrow]")));
        Assert.Equal(manages, page.FindAll("[data-testid=key-import]").Count == 1);
        Assert.Equal(manages, page.FindAll("[data-testid=generate-key]").Count == 1);
        Assert.Equal(manages, page.FindAll("[data-testid=store-dotenv]").Count == 1);
        Assert.Equal(checks, page.FindAll("[data-testid=check-live]").Count == 1);
    }

    [Fact]
    public void CheckAgainstLive_TargetWithoutBaseUrl_SaysWhatToConfigure()
    {
        var page = RenderPage<Keys>(ConsoleRoles.Operator);

        ClickTestId(page, "check-live");

        page.WaitForAssertion(() => Assert.Contains("not configured", page.Find("[data-testid=check-result]").TextContent));
    }

    [Fact]
    public async Task Configuration_PastedDotEnv_IsMaskedAndRevealedOnlyOnRequest()
    {
        var page = RenderPage<Keys>(ConsoleRoles.Admin, "admin@example.test");

        page.WaitForElement("textarea[data-testid=dotenv-paste]").Input("SMTP_HOST=smtp.example.test\nSMTP_PASSWORD=\"pa55-w0rd-for-tests\"\n");
        ClickTestId(page, "store-dotenv");

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=variable-SMTP_PASSWORD]")));
        Assert.DoesNotContain("pa55-w0rd-for-tests", page.Markup);
        Assert.Contains(ConfigurationEscrowService.Mask, page.WaitForElement("[data-testid=variable-SMTP_PASSWORD]").TextContent);

        page.WaitForElement("[data-testid=variable-SMTP_PASSWORD] [data-testid=reveal]").Click();

        page.WaitForAssertion(() => Assert.Equal("pa55-w0rd-for-tests", page.Find("[data-testid=revealed-value]").TextContent));
        await using var db = await Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        Assert.True(await db.AuditEvents.AnyAsync(e => e.Action == AuditActions.SecretRevealed && e.Actor == "admin@example.test" && e.Detail!.Contains("SMTP_PASSWORD")));
    }

    [Fact]
    public async Task Configuration_DotEnvWithABadLine_ShowsTheLineAndStoresNothing()
    {
        var escrow = Service<ConfigurationEscrowService>();
        var before = (await escrow.GetAsync(App.TargetId))?.VersionId;
        var page = RenderPage<Keys>(ConsoleRoles.Admin);

        page.WaitForElement("textarea[data-testid=dotenv-paste]").Input("GOOD=1\nthis line is not an assignment\n");
        ClickTestId(page, "store-dotenv");

        page.WaitForAssertion(() => Assert.Contains("Line 2 is not a NAME=value assignment", page.Find("[data-testid=configuration-error]").TextContent));
        Assert.Equal(before, (await escrow.GetAsync(App.TargetId))?.VersionId);
    }
}
