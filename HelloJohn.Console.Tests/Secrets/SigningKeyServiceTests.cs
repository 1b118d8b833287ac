using System.Security.Cryptography;
using System.Text;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Secrets.SigningKeys;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Tests.Secrets.Fixtures;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
[Collection(SecretsDatabaseCollection.Name)]
public sealed class SigningKeyServiceTests(SecretsDatabaseFixture db)
{
    [Fact]
    public async Task ImportAsync_KnownKey_FingerprintEqualsOneComputedByHand()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync(name: "Production EU");
        var expected = TestKeys.ThumbprintByHand(Convert.FromHexString(TestKeys.OpenSslEd25519PublicKeyHex));

        var status = await harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem);

        Assert.Equal(expected, status.Fingerprint);
        Assert.Equal("EdDSA", status.Algorithm);
        Assert.Equal("Ed25519", status.Curve);
        Assert.Equal("production-eu/jwt-signing-key", status.SecretName);
        Assert.Equal(SecretStoreKind.Local, status.Store);
        Assert.Equal("1", status.VersionId);
        Assert.Equal(SigningKeyOrigin.Imported, status.Origin);
        Assert.Equal("admin@example.com", status.StoredBy);
        Assert.Contains(TestKeys.ToBase64Url(Convert.FromHexString(TestKeys.OpenSslEd25519PublicKeyHex)), status.PublicJwk);
        var stored = await harness.Get<ISecretStore>().GetAsync(status.SecretName);
        Assert.Equal(TestKeys.OpenSslEd25519Pem, stored!.Value);
        var reloaded = await harness.Get<SigningKeyService>().GetStatusAsync(target.Id);
        Assert.Equal(expected, reloaded!.Fingerprint);
        Assert.Null(reloaded.LastCheck);
        var audit = Assert.Single(await SecretsHarness.AuditEventsAsync(db, status.SecretName));
        Assert.Equal(AuditActions.SigningKeyImported, audit.Action);
        Assert.Equal(AuditOutcome.Succeeded, audit.Outcome);
        Assert.Contains(expected, audit.Detail);
    }

    [Fact]
    public async Task ImportAsync_Rfc8037Key_FingerprintIsPublishedThumbprint()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();

        var status = await harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.Rfc8037Pem());

        Assert.Equal(TestKeys.Rfc8037Thumbprint, status.Fingerprint);
    }

    [Fact]
    public async Task ImportFileAsync_PemFile_StoresKey()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        using var file = new MemoryStream(Encoding.UTF8.GetBytes(TestKeys.OpenSslEd25519Pem.Replace("\n", "\r\n")));

        var status = await harness.Get<SigningKeyService>().ImportFileAsync(SecretsHarness.Admin, target.Id, file);

        Assert.Equal(TestKeys.ThumbprintByHand(Convert.FromHexString(TestKeys.OpenSslEd25519PublicKeyHex)), status.Fingerprint);
    }

    [Fact]
    public async Task ImportAsync_ThenGenerate_VersionsKeptAndEachReadable()
    {
        await using var harness = SecretsHarness.Create(db);
        var service = harness.Get<SigningKeyService>();
        var target = await db.CreateTargetAsync();

        var first = await service.ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.Rfc8037Pem());
        var second = await service.ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem);
        var third = await service.GenerateAsync(SecretsHarness.Admin, target.Id);

        var versions = await service.ListVersionsAsync(target.Id);
        Assert.Equal([third.Status.VersionId, second.VersionId, first.VersionId], versions.Select(v => v.VersionId));
        Assert.Equal([SigningKeyOrigin.Generated, SigningKeyOrigin.Imported, SigningKeyOrigin.Imported], versions.Select(v => v.Origin));
        Assert.Equal(third.Status.Fingerprint, (await service.GetStatusAsync(target.Id))!.Fingerprint);
        Assert.Equal(3, (await harness.Get<ISecretStore>().ListVersionsAsync(first.SecretName)).Count);
        var oldest = await service.RevealAsync(SecretsHarness.Admin, target.Id, first.VersionId);
        Assert.Equal(TestKeys.Rfc8037Thumbprint, oldest.Fingerprint);
        Assert.Equal(SigningKeyPem.Parse(TestKeys.Rfc8037Pem()).Pem, oldest.PrivateKeyPem);
    }

    public static TheoryData<string, string, SigningKeyProblem> BadKeys()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new TheoryData<string, string, SigningKeyProblem>
        {
            { "empty", "", SigningKeyProblem.Empty },
            { "garbage", "definitely-not-a-key", SigningKeyProblem.NotPem },
            { "public key", ec.ExportSubjectPublicKeyInfoPem(), SigningKeyProblem.PublicKey },
            { "RSA", rsa.ExportPkcs8PrivateKeyPem(), SigningKeyProblem.NotEd25519 },
            { "EC", ec.ExportPkcs8PrivateKeyPem(), SigningKeyProblem.NotEd25519 },
            { "Ed448", TestKeys.Ed448Pem, SigningKeyProblem.NotEd25519 },
        };
    }

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task ImportAsync_BadKey_ClearErrorNothingStoredFailureAudited(string description, string input, SigningKeyProblem problem)
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var secretName = SecretNames.SigningKey(target);

        var e = await Assert.ThrowsAsync<InvalidSigningKeyException>(() => harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Admin, target.Id, input));

        Assert.True(problem == e.Problem, description);
        Assert.Contains("Nothing was stored", e.Message);
        Assert.Null(await harness.Get<ISecretStore>().DescribeAsync(secretName));
        Assert.Null(await harness.Get<SigningKeyService>().GetStatusAsync(target.Id));
        var audit = Assert.Single(await SecretsHarness.AuditEventsAsync(db, secretName));
        Assert.Equal(AuditOutcome.Failed, audit.Outcome);
        Assert.Equal(e.Message, audit.Detail);
    }

    [Fact]
    public async Task ImportFileAsync_EmptyFile_EmptyErrorNothingStored()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();

        var e = await Assert.ThrowsAsync<InvalidSigningKeyException>(() => harness.Get<SigningKeyService>().ImportFileAsync(SecretsHarness.Admin, target.Id, new MemoryStream()));

        Assert.Equal(SigningKeyProblem.Empty, e.Problem);
        Assert.Null(await harness.Get<ISecretStore>().DescribeAsync(SecretNames.SigningKey(target)));
    }

    [Fact]
    public async Task ImportFileAsync_HugeFile_TooLargeNothingStored()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var big = Encoding.UTF8.GetBytes(TestKeys.OpenSslEd25519Pem + new string('#', SigningKeyService.MaxFileBytes));

        var e = await Assert.ThrowsAsync<InvalidSigningKeyException>(() => harness.Get<SigningKeyService>().ImportFileAsync(SecretsHarness.Admin, target.Id, new MemoryStream(big)));

        Assert.Equal(SigningKeyProblem.TooLarge, e.Problem);
        Assert.Null(await harness.Get<ISecretStore>().DescribeAsync(SecretNames.SigningKey(target)));
    }

    [Fact]
    public async Task ImportFileAsync_BinaryFile_NotPemNothingStored()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var der = Convert.FromBase64String(TestKeys.OpenSslEd25519Body);

        var e = await Assert.ThrowsAsync<InvalidSigningKeyException>(() => harness.Get<SigningKeyService>().ImportFileAsync(SecretsHarness.Admin, target.Id, new MemoryStream(der)));

        Assert.Equal(SigningKeyProblem.NotPem, e.Problem);
        Assert.Null(await harness.Get<ISecretStore>().DescribeAsync(SecretNames.SigningKey(target)));
    }

    [Fact]
    public async Task ImportAsync_Operator_DeniedAuditedNothingStored()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        var secretName = SecretNames.SigningKey(target);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Operator, target.Id, TestKeys.OpenSslEd25519Pem));

        Assert.Null(await harness.Get<ISecretStore>().DescribeAsync(secretName));
        var audit = Assert.Single(await SecretsHarness.AuditEventsAsync(db, secretName));
        Assert.Equal(AuditOutcome.Denied, audit.Outcome);
        Assert.Equal("operator@example.com", audit.Actor);
    }

    [Fact]
    public async Task GenerateAsync_Admin_ReturnsPemOnceStoresVersionAndSaysWhatToDeploy()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync(baseUrl: "https://auth.example.com");

        var generated = await harness.Get<SigningKeyService>().GenerateAsync(SecretsHarness.Admin, target.Id);

        var parsed = SigningKeyPem.Parse(generated.PrivateKeyPem);
        Assert.Equal(generated.Status.Fingerprint, parsed.Fingerprint);
        Assert.Equal(TestKeys.ThumbprintByHand(parsed.PublicKey.ToArray()), generated.Status.Fingerprint);
        Assert.Equal(SigningKeyOrigin.Generated, generated.Status.Origin);
        Assert.Equal(generated.PrivateKeyPem, (await harness.Get<ISecretStore>().GetAsync(generated.Status.SecretName))!.Value);
        Assert.Contains(generated.DeploySteps, s => s.Contains("HELLOJOHN_JWT_SIGNING_KEY", StringComparison.Ordinal));
        Assert.Contains(generated.DeploySteps, s => s.Contains("https://auth.example.com/.well-known/jwks.json", StringComparison.Ordinal) && s.Contains(generated.Status.Fingerprint, StringComparison.Ordinal));
        Assert.DoesNotContain(PemBody(generated.PrivateKeyPem), generated.ToString());
        var audit = Assert.Single(await SecretsHarness.AuditEventsAsync(db, generated.Status.SecretName));
        Assert.Equal(AuditActions.SigningKeyGenerated, audit.Action);
        Assert.Contains(generated.Status.Fingerprint, audit.Detail);
    }

    [Fact]
    public async Task GenerateAndReveal_Operator_DeniedNothingStored()
    {
        await using var harness = SecretsHarness.Create(db);
        var target = await db.CreateTargetAsync();
        await harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.Get<SigningKeyService>().GenerateAsync(SecretsHarness.Operator, target.Id));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => harness.Get<SigningKeyService>().RevealAsync(SecretsHarness.Operator, target.Id));

        Assert.Single(await harness.Get<SigningKeyService>().ListVersionsAsync(target.Id));
        var audits = await SecretsHarness.AuditEventsAsync(db, SecretNames.SigningKey(target));
        Assert.Equal([AuditOutcome.Succeeded, AuditOutcome.Denied, AuditOutcome.Denied], audits.Select(a => a.Outcome));
    }

    [Fact]
    public async Task ImportAsync_AwsStore_StoresPlainPemUnderPrefixedName()
    {
        await using var server = await FakeSecretsManagerServer.StartAsync();
        server.AddAccount("FAKESIGNINGKEYTEST00", "signing-key-test-secret");
        await using var harness = SecretsHarness.Create(db, new Dictionary<string, string?>
        {
            ["Secrets:Store"] = "AwsSecretsManager",
            ["Secrets:Region"] = FakeSecretsManagerServer.Region,
            ["Secrets:ServiceUrl"] = server.ServiceUrl.ToString(),
            ["Secrets:AccessKeyId"] = "FAKESIGNINGKEYTEST00",
            ["Secrets:SecretAccessKey"] = "signing-key-test-secret",
        });
        var target = await db.CreateTargetAsync(name: "production");

        var status = await harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem);

        // What 'aws secretsmanager get-secret-value --secret-id hellojohn/production/jwt-signing-key' would print.
        Assert.Equal(TestKeys.OpenSslEd25519Pem, server.CurrentValue("hellojohn/production/jwt-signing-key"));
        Assert.Equal(SecretStoreKind.AwsSecretsManager, status.Store);
        Assert.DoesNotContain("signing-key-test-secret", harness.Logs.AllText);
    }

    [Fact]
    public async Task ImportAsync_AwsAccessDenied_NothingRecordedFailureAudited()
    {
        await using var server = await FakeSecretsManagerServer.StartAsync();
        server.AddAccount("FAKEREADER0000000000", "reader-secret", "GetSecretValue");
        await using var harness = SecretsHarness.Create(db, new Dictionary<string, string?>
        {
            ["Secrets:Store"] = "AwsSecretsManager",
            ["Secrets:Region"] = FakeSecretsManagerServer.Region,
            ["Secrets:ServiceUrl"] = server.ServiceUrl.ToString(),
            ["Secrets:AccessKeyId"] = "FAKEREADER0000000000",
            ["Secrets:SecretAccessKey"] = "reader-secret",
        });
        var target = await db.CreateTargetAsync();

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => harness.Get<SigningKeyService>().ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem));

        Assert.Equal(SecretStoreFailure.AccessDenied, e.Failure);
        Assert.Equal(0, server.SecretCount);
        Assert.Null(await harness.Get<SigningKeyService>().GetStatusAsync(target.Id));
        Assert.Equal(AuditOutcome.Failed, Assert.Single(await SecretsHarness.AuditEventsAsync(db, SecretNames.SigningKey(target))).Outcome);
    }

    [Fact]
    public async Task KeyText_NeverInLogsAuditEventsOrExceptions()
    {
        await using var harness = SecretsHarness.Create(db);
        var service = harness.Get<SigningKeyService>();
        var target = await db.CreateTargetAsync(baseUrl: "http://127.0.0.1:9");
        var messages = new List<string>();
        async Task CaptureAsync(Func<Task> action)
        {
            try
            {
                await action();
            }
            catch (Exception e)
            {
                messages.Add(e.ToString());
            }
        }

        await service.ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem);
        await CaptureAsync(() => service.ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem + TestKeys.OpenSslEd25519Pem.Replace("MC4C", "MC4D")));
        await CaptureAsync(() => service.ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Pem.Replace("-----END PRIVATE KEY-----", "-----END PUBLIC KEY-----")));
        await CaptureAsync(() => service.ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.OpenSslEd25519Body));
        await CaptureAsync(() => service.ImportAsync(SecretsHarness.Operator, target.Id, TestKeys.OpenSslEd25519Pem));
        await CaptureAsync(() => service.ImportAsync(SecretsHarness.Admin, target.Id, TestKeys.Ed448Pem));
        var generated = await service.GenerateAsync(SecretsHarness.Admin, target.Id);
        var revealed = await service.RevealAsync(SecretsHarness.Admin, target.Id);
        await service.RecordDownloadAsync(SecretsHarness.Admin, target.Id, generated.Status.VersionId);
        await harness.Get<Core.Secrets.Jwks.JwksCheckService>().CheckAsync(SecretsHarness.Admin, target.Id);
        messages.Add(generated.ToString());
        messages.Add(revealed.ToString());
        messages.Add((await service.GetStatusAsync(target.Id))!.ToString());

        Assert.Equal(5, messages.Count(m => m.Contains("Exception", StringComparison.Ordinal)));
        var secretsThatMustNotLeak = new[] { TestKeys.OpenSslEd25519Body, PemBody(generated.PrivateKeyPem), "MEcCAQAwBQYDK2VxBDsEOVVhvvX" };
        var audits = await SecretsHarness.AuditEventsAsync(db, SecretNames.SigningKey(target));
        Assert.True(audits.Count >= 9);
        Assert.NotEmpty(harness.Logs.Lines);
        foreach (var secret in secretsThatMustNotLeak)
        {
            Assert.DoesNotContain(secret, harness.Logs.AllText);
            Assert.All(audits, a => Assert.DoesNotContain(secret, (a.Detail ?? "") + a.Target));
            Assert.All(messages, m => Assert.DoesNotContain(secret, m));
        }

        await using var context = db.CreateContext();
        var rows = await context.Set<SigningKeyVersion>().Where(v => v.TargetId == target.Id).ToListAsync();
        Assert.All(rows, r => Assert.DoesNotContain(TestKeys.OpenSslEd25519Body, r.PublicKey + r.Fingerprint + r.StoreLocation));
    }

    private static string PemBody(string pem) => pem.Split('\n')[1].Trim();
}
