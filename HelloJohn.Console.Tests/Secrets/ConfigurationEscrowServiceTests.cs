using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Secrets.Configuration;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Secrets.Fixtures;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
[Collection(SecretsDatabaseCollection.Name)]
public sealed class ConfigurationEscrowServiceTests(SecretsDatabaseFixture db)
{
    private const string DatabaseUrl = "postgres://hellojohn:Db-Pa55word-Never-Shown@db.internal:5432/hellojohn";
    private const string SmtpPassword = "smtp-Pa55word-Never-Shown";

    private static readonly Dictionary<string, string> Variables = new()
    {
        ["HELLOJOHN_DATABASE_URL"] = DatabaseUrl,
        ["HELLOJOHN_SMTP_HOST"] = "smtp.example.com",
        ["HELLOJOHN_SMTP_PASSWORD"] = SmtpPassword,
    };

    [Fact]
    public async Task ReplaceAsync_Variables_ListedByNameWithMaskedValues()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync(name: "staging");
        var service = harness.Get<ConfigurationEscrowService>();

        var stored = await service.ReplaceAsync(SecretsHarness.Admin, target.Id, Variables);
        var view = await service.GetAsync(target.Id);

        Assert.Equivalent(stored, view, strict: true);
        Assert.Equal(["HELLOJOHN_DATABASE_URL", "HELLOJOHN_SMTP_HOST", "HELLOJOHN_SMTP_PASSWORD"], view!.Variables.Select(v => v.Name));
        Assert.All(view.Variables, v => Assert.Equal(ConfigurationEscrowService.Mask, v.MaskedValue));
        Assert.DoesNotContain(SmtpPassword, view.ToString());
        var audit = Assert.Single(await SecretsHarness.AuditEventsAsync(db, "staging/environment"));
        Assert.Equal(AuditActions.SecretStored, audit.Action);
        Assert.Contains("HELLOJOHN_SMTP_PASSWORD", audit.Detail);
        Assert.DoesNotContain(SmtpPassword, audit.Detail);
    }

    [Fact]
    public async Task RevealAsync_Admin_ReturnsValueAuditedWithNameOnly()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var service = harness.Get<ConfigurationEscrowService>();
        await service.ReplaceAsync(SecretsHarness.Admin, target.Id, Variables);

        var revealed = await service.RevealAsync(SecretsHarness.Admin, target.Id, "HELLOJOHN_DATABASE_URL");

        Assert.Equal(DatabaseUrl, revealed.Value);
        Assert.DoesNotContain("Db-Pa55word", revealed.ToString());
        var audit = (await SecretsHarness.AuditEventsAsync(db, SecretNames.Configuration(target))).Last();
        Assert.Equal(AuditActions.SecretRevealed, audit.Action);
        Assert.Equal(AuditOutcome.Succeeded, audit.Outcome);
        Assert.Contains("HELLOJOHN_DATABASE_URL", audit.Detail);
        Assert.DoesNotContain("Db-Pa55word", audit.Detail);
        Assert.DoesNotContain("Db-Pa55word", harness.Logs.AllText);
        Assert.DoesNotContain(SmtpPassword, harness.Logs.AllText);
    }

    [Fact]
    public async Task RevealAsync_OperatorOrViewer_DeniedAndAudited()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var service = harness.Get<ConfigurationEscrowService>();
        await service.ReplaceAsync(SecretsHarness.Admin, target.Id, Variables);

        var e = await Assert.ThrowsAsync<PermissionDeniedException>(() => service.RevealAsync(SecretsHarness.Operator, target.Id, "HELLOJOHN_SMTP_PASSWORD"));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => service.RevealAsync(SecretsHarness.Viewer, target.Id, "HELLOJOHN_SMTP_PASSWORD"));

        Assert.Equal(ConsolePermission.RevealSecret, e.Permission);
        var denied = (await SecretsHarness.AuditEventsAsync(db, SecretNames.Configuration(target))).Where(a => a.Outcome == AuditOutcome.Denied).ToList();
        Assert.Equal(["operator@example.com", "viewer@example.com"], denied.Select(a => a.Actor));
        Assert.All(denied, a => Assert.Equal(AuditActions.SecretRevealed, a.Action));
    }

    [Fact]
    public async Task RevealAsync_UnknownVariable_ClearErrorNothingRevealed()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var service = harness.Get<ConfigurationEscrowService>();
        await service.ReplaceAsync(SecretsHarness.Admin, target.Id, Variables);

        var e = await Assert.ThrowsAsync<InvalidConfigurationEscrowException>(() => service.RevealAsync(SecretsHarness.Admin, target.Id, "HELLOJOHN_NOPE"));

        Assert.Contains("has no variable HELLOJOHN_NOPE", e.Message);
        Assert.Equal(AuditOutcome.Failed, (await SecretsHarness.AuditEventsAsync(db, SecretNames.Configuration(target))).Last().Outcome);
    }

    [Fact]
    public async Task MergeAsync_SetAndRemove_KeepsOthersAsNewVersion()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var service = harness.Get<ConfigurationEscrowService>();
        var first = await service.ReplaceAsync(SecretsHarness.Admin, target.Id, Variables);

        var second = await service.MergeAsync(SecretsHarness.Admin, target.Id, new Dictionary<string, string?>
        {
            ["HELLOJOHN_SMTP_HOST"] = null,
            ["HELLOJOHN_BASE_URL"] = "https://auth.example.com",
        });

        Assert.Equal("1", first.VersionId);
        Assert.Equal("2", second.VersionId);
        Assert.Equal(["HELLOJOHN_BASE_URL", "HELLOJOHN_DATABASE_URL", "HELLOJOHN_SMTP_PASSWORD"], second.Variables.Select(v => v.Name));
        Assert.Equal(SmtpPassword, (await service.RevealAsync(SecretsHarness.Admin, target.Id, "HELLOJOHN_SMTP_PASSWORD")).Value);
        Assert.Equal(2, (await harness.Get<ISecretStore>().ListVersionsAsync(SecretNames.Configuration(target))).Count);
    }

    [Fact]
    public async Task ReplaceAsync_BadNamesOrEmpty_ClearErrorNothingStored()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var service = harness.Get<ConfigurationEscrowService>();

        var badName = await Assert.ThrowsAsync<InvalidConfigurationEscrowException>(() =>
            service.ReplaceAsync(SecretsHarness.Admin, target.Id, new Dictionary<string, string> { ["1BAD-NAME"] = "secret-value-1" }));
        var empty = await Assert.ThrowsAsync<InvalidConfigurationEscrowException>(() =>
            service.ReplaceAsync(SecretsHarness.Admin, target.Id, new Dictionary<string, string>()));

        Assert.Contains("'1BAD-NAME' is not a valid environment variable name", badName.Message);
        Assert.DoesNotContain("secret-value-1", badName.Message);
        Assert.Contains("no variables", empty.Message);
        Assert.Null(await harness.Get<ISecretStore>().DescribeAsync(SecretNames.Configuration(target)));
        Assert.Null(await service.GetAsync(target.Id));
    }

    [Fact]
    public async Task ReplaceAsync_Operator_DeniedNothingStored()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();

        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.Get<ConfigurationEscrowService>().ReplaceAsync(SecretsHarness.Operator, target.Id, Variables));

        Assert.Null(await harness.Get<ISecretStore>().DescribeAsync(SecretNames.Configuration(target)));
    }

    [Fact]
    public void ParseDotEnv_TypicalFile_ReadsAssignments()
    {
        var variables = ConfigurationEscrowService.ParseDotEnv("""
            # HelloJohn production
            HELLOJOHN_DATABASE_URL=postgres://u:p@h:5432/hj
            export HELLOJOHN_BASE_URL="https://auth.example.com"
            HELLOJOHN_SMTP_FROM='HelloJohn <no-reply@example.com>'
            HELLOJOHN_JWT_SIGNING_KEY="-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"
            HELLOJOHN_LOG_LEVEL=info # trailing comment

            EMPTY=
            """);

        Assert.Equal("postgres://u:p@h:5432/hj", variables["HELLOJOHN_DATABASE_URL"]);
        Assert.Equal("https://auth.example.com", variables["HELLOJOHN_BASE_URL"]);
        Assert.Equal("HelloJohn <no-reply@example.com>", variables["HELLOJOHN_SMTP_FROM"]);
        Assert.Equal("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", variables["HELLOJOHN_JWT_SIGNING_KEY"]);
        Assert.Equal("info", variables["HELLOJOHN_LOG_LEVEL"]);
        Assert.Equal("", variables["EMPTY"]);
        Assert.Equal(6, variables.Count);
    }

    [Fact]
    public void ParseDotEnv_LineWithoutAssignment_ErrorNamesLineNotContent()
    {
        var e = Assert.Throws<InvalidConfigurationEscrowException>(() =>
            ConfigurationEscrowService.ParseDotEnv("A=1\nthis-line-holds-a-s3cret\n"));

        Assert.Contains("Line 2", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }
}
