using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;

namespace HelloJohn.Console.Tests.Restores;

[Trait("Capability", "Restore")]
public sealed class DatabaseNamesTests
{
    [Theory]
    [InlineData("hellojohn_restore")]
    [InlineData("_x")]
    [InlineData("a")]
    [InlineData("hellojohn_2024_01_20")]
    [InlineData("hellojohn_verify")]
    public void Problem_ValidName_IsNull(string name) => Assert.Null(DatabaseNames.Problem(name));

    [Fact]
    public void Problem_SixtyThreeCharacters_IsNullButSixtyFourIsRefused()
    {
        Assert.Null(DatabaseNames.Problem(new string('a', 63)));
        Assert.Contains("1 to 63", DatabaseNames.Problem(new string('a', 64)));
    }

    [Theory]
    [InlineData(null, "Give the name")]
    [InlineData("", "Give the name")]
    [InlineData("Restore", "not a usable database name")]
    [InlineData("9restore", "not a usable database name")]
    [InlineData("re-store", "not a usable database name")]
    [InlineData("x\"; DROP DATABASE hellojohn; --", "not a usable database name")]
    [InlineData("postgres", "system database")]
    [InlineData("template0", "system database")]
    [InlineData("template1", "system database")]
    [InlineData("hellojohn_verify_1700000000", "reserved for verification")]
    public void Problem_BadName_SaysWhy(string? name, string reason) => Assert.Contains(reason, DatabaseNames.Problem(name));

    [Fact]
    public void ForVerification_AtTime_IsTheUnixTimeNameAndRecognized()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

        Assert.Equal("hellojohn_verify_1700000000", DatabaseNames.ForVerification(at));
        Assert.Equal("hellojohn_verify_1700000000_2", DatabaseNames.ForVerification(at, 2));
        Assert.True(DatabaseNames.IsVerificationDatabase(DatabaseNames.ForVerification(at, 2)));
        Assert.False(DatabaseNames.IsVerificationDatabase("hellojohn_verify_me"));
        Assert.False(DatabaseNames.IsVerificationDatabase("hellojohn"));
        Assert.Equal(at, DatabaseNames.CreatedAt("hellojohn_verify_1700000000_2"));
        Assert.Null(DatabaseNames.CreatedAt("hellojohn_restore"));
    }
}

[Trait("Capability", "Restore")]
public sealed class TableCountComparisonTests
{
    [Fact]
    public void Compare_MissingExtraAndDifferentTables_AreAllReportedWithDocumentedTablesFirst()
    {
        ManifestTableCount[] expected = [new("public", "hj_organization", 3), new("public", "hj_session", 30), new("public", "hj_user", 10), new("public", "gone", 1)];
        TableRowCount[] actual = [new("public", "hj_user", 10), new("public", "hj_session", 29), new("public", "hj_organization", 3), new("audit", "extra", 5)];

        var result = TableCountComparison.Compare(expected, actual);

        Assert.Equal(["hj_user", "hj_session"], result.Take(2).Select(r => r.Table));
        Assert.True(result.Single(r => r.Table == "hj_user").Matches);
        Assert.False(result.Single(r => r.Table == "hj_session").Matches);
        Assert.Null(result.Single(r => r.Table == "gone").Actual);
        Assert.Null(result.Single(r => r.Table == "extra").Expected);
        var text = TableCountComparison.DescribeMismatches(result);
        Assert.Contains("hj_session has 29 rows, the manifest 30", text);
        Assert.Contains("gone is missing after restore", text);
        Assert.Contains("audit.extra is not in the manifest", text);
        Assert.DoesNotContain("hj_user", text);
    }

    [Fact]
    public void DescribeMismatches_AllEqual_IsNull()
    {
        var result = TableCountComparison.Compare([new("public", "hj_user", 0)], [new("public", "hj_user", 0)]);

        Assert.Null(TableCountComparison.DescribeMismatches(result));
    }
}
