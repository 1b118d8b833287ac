using HelloJohn.Console.Core.Postgres;

namespace HelloJohn.Console.Tests.Postgres;

/// <summary>A HelloJohn database is recognised by what it holds, in either layout, never by one table name.</summary>
[Trait("Capability", "Pitr")]
public sealed class HelloJohnSchemaTests
{
    [Theory]
    [InlineData("public.app_user,public.identity,public.refresh_token,public.sessions,public.schema_migrations", "the current schema")]
    [InlineData("hj_user,hj_session,hj_organization,hj_schema_migrations", "the documented layout")]
    public void Recognize_EitherLayout_IsHelloJohn(string tables, string layout)
    {
        var result = HelloJohnSchema.Recognize(tables.Split(','));

        Assert.True(result.IsHelloJohn, result.Evidence);
        Assert.Contains(layout, result.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Recognize_OneKnownNameAmongOthers_IsNotEnough()
    {
        var result = HelloJohnSchema.Recognize(["public.sessions", "public.orders", "public.customers"]);

        Assert.False(result.IsHelloJohn);
        Assert.Contains("app_user", result.Evidence, StringComparison.Ordinal);
        Assert.Contains("hj_user", result.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Recognize_TablesOfTheBackupsManifest_IsHelloJohnWhateverTheyAreCalled()
    {
        // A HelloJohn version with tables neither layout knows: the manifest of the backup says what the database held.
        string[] held = ["public.principal", "auth.credential", "public.token_family"];

        var result = HelloJohnSchema.Recognize([.. held, "public.extra"], held, "the manifest of hellojohn_20260101_020000.dump");
        var lacking = HelloJohnSchema.Recognize(["public.principal"], held, "the manifest of hellojohn_20260101_020000.dump");

        Assert.True(result.IsHelloJohn, result.Evidence);
        Assert.Equal("it holds all 3 tables that the manifest of hellojohn_20260101_020000.dump lists", result.Evidence);
        Assert.False(lacking.IsHelloJohn);
        Assert.Contains("it lacks auth.credential, token_family of the 3 tables", lacking.Evidence, StringComparison.Ordinal);
    }
}
