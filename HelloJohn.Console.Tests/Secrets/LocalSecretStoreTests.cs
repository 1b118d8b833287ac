using HelloJohn.Console.Core.Secrets;
using HelloJohn.Console.Core.Secrets.Local;
using HelloJohn.Console.Tests.Secrets.Fixtures;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.Secrets;

[Trait("Capability", "Secrets")]
[Collection(SecretsDatabaseCollection.Name)]
public sealed class LocalSecretStoreTests(SecretsDatabaseFixture db)
{
    [Fact]
    public async Task PutAsync_ThreeVersions_CurrentIsNewestAndEveryVersionStaysReadable()
    {
        await using var harness = SecretsHarness.Create(db);
        var store = harness.Get<ISecretStore>();
        var name = "tests/" + Guid.NewGuid().ToString("N");

        var first = await store.PutAsync(name, "value one");
        var second = await store.PutAsync(name, "value two");
        var third = await store.PutAsync(name, "value three");

        Assert.Equal(SecretStoreKind.Local, store.Kind);
        Assert.Equal(["1", "2", "3"], new[] { first.VersionId, second.VersionId, third.VersionId });
        Assert.Equal("value three", (await store.GetAsync(name))!.Value);
        Assert.Equal("value one", (await store.GetAsync(name, first.VersionId))!.Value);
        Assert.Equal("value two", (await store.GetAsync(name, "2"))!.Value);
        var versions = await store.ListVersionsAsync(name);
        Assert.Equal(["3", "2", "1"], versions.Select(v => v.VersionId));
        Assert.Equal([true, false, false], versions.Select(v => v.IsCurrent));
        var description = await store.DescribeAsync(name);
        Assert.NotNull(description);
        Assert.Equal("3", description.CurrentVersionId);
        Assert.Equal(3, description.VersionCount);
    }

    [Fact]
    public async Task PutAsync_Value_IsEncryptedAtRest()
    {
        await using var harness = SecretsHarness.Create(db);
        var name = "tests/" + Guid.NewGuid().ToString("N");
        const string value = "postgres://hellojohn:very-secret-password@db.internal:5432/hellojohn";

        await harness.Get<ISecretStore>().PutAsync(name, value);

        await using var context = db.CreateContext();
        var row = await context.Set<StoredSecretVersion>().SingleAsync(v => v.Name == name);
        Assert.DoesNotContain("very-secret-password", row.ProtectedValue);
        Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value))[..20], row.ProtectedValue);
        Assert.True(row.ProtectedValue.Length > value.Length);
    }

    [Fact]
    public async Task GetAsync_SameKeyRingInAnotherProcess_ReadsValue()
    {
        var name = "tests/" + Guid.NewGuid().ToString("N");
        await using var writer = SecretsHarness.Create(db);
        await writer.Get<ISecretStore>().PutAsync(name, "kept across restarts");

        await using var reader = SecretsHarness.Create(db, keyRingDirectory: writer.KeyRingDirectory);

        Assert.Equal("kept across restarts", (await reader.Get<ISecretStore>().GetAsync(name))!.Value);
    }

    [Fact]
    public async Task GetAsync_OtherKeyRing_ThrowsUnreadableWithoutValue()
    {
        var name = "tests/" + Guid.NewGuid().ToString("N");
        await using var writer = SecretsHarness.Create(db);
        await writer.Get<ISecretStore>().PutAsync(name, "only the first key ring can read this");
        await using var stranger = SecretsHarness.Create(db);

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => stranger.Get<ISecretStore>().GetAsync(name));

        Assert.Equal(SecretStoreFailure.Unreadable, e.Failure);
        Assert.Contains("cannot be decrypted", e.Message);
        Assert.Contains("Nothing was changed", e.Message);
        Assert.DoesNotContain("only the first key ring", e.Message);
        Assert.Null(e.InnerException);
    }

    [Fact]
    public async Task GetAsync_RowMovedToAnotherName_DoesNotDecrypt()
    {
        await using var harness = SecretsHarness.Create(db);
        var store = harness.Get<ISecretStore>();
        var original = "tests/" + Guid.NewGuid().ToString("N");
        var other = "tests/" + Guid.NewGuid().ToString("N");
        await store.PutAsync(original, "bound to its name");
        await store.PutAsync(other, "placeholder");
        await using (var context = db.CreateContext())
        {
            var source = await context.Set<StoredSecretVersion>().SingleAsync(v => v.Name == original);
            var target = await context.Set<StoredSecretVersion>().SingleAsync(v => v.Name == other);
            target.ProtectedValue = source.ProtectedValue;
            await context.SaveChangesAsync();
        }

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => store.GetAsync(other));

        Assert.Equal(SecretStoreFailure.Unreadable, e.Failure);
    }

    [Fact]
    public async Task GetAsync_UnknownNameOrVersion_ReturnsNothing()
    {
        await using var harness = SecretsHarness.Create(db);
        var store = harness.Get<ISecretStore>();
        var name = "tests/" + Guid.NewGuid().ToString("N");
        await store.PutAsync(name, "v1");

        Assert.Null(await store.GetAsync("tests/" + Guid.NewGuid().ToString("N")));
        Assert.Null(await store.GetAsync(name, "7"));
        Assert.Null(await store.GetAsync(name, "not-a-number"));
        Assert.Null(await store.DescribeAsync("tests/" + Guid.NewGuid().ToString("N")));
        Assert.Empty(await store.ListVersionsAsync("tests/" + Guid.NewGuid().ToString("N")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("quote'd")]
    public async Task PutAsync_InvalidName_ThrowsAndStoresNothing(string name)
    {
        await using var harness = SecretsHarness.Create(db);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => harness.Get<ISecretStore>().PutAsync(name, "value"));

        Assert.Contains("not a valid secret name", e.Message);
        await using var context = db.CreateContext();
        Assert.False(await context.Set<StoredSecretVersion>().AnyAsync(v => v.Name == name));
    }

    [Fact]
    public async Task PutAsync_ConcurrentPuts_EachGetsItsOwnVersion()
    {
        await using var harness = SecretsHarness.Create(db);
        var store = harness.Get<ISecretStore>();
        var name = "tests/" + Guid.NewGuid().ToString("N");

        var versions = await Task.WhenAll(Enumerable.Range(1, 6).Select(i => Task.Run(() => store.PutAsync(name, $"value {i}"))));

        Assert.Equal(["1", "2", "3", "4", "5", "6"], versions.Select(v => v.VersionId).Order());
        Assert.Equal(6, (await store.DescribeAsync(name))!.VersionCount);
    }
}
