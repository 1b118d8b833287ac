using HelloJohn.Console.Core.Deployments;

namespace HelloJohn.Console.Tests.Sets;

/// <summary>Which databases a deployment selects, and when two selections could select the same one.</summary>
[Trait("Capability", "Sets")]
public sealed class DatabaseSelectionTests
{
    [Theory]
    [InlineData("hellojohn_tenant_*", "hellojohn_tenant_acme", true)]
    [InlineData("hellojohn_tenant_*", "hellojohn_tenant_", true)]
    [InlineData("hellojohn_tenant_*", "hellojohn", false)]
    [InlineData("hellojohn_tenant_*", "Hellojohn_tenant_acme", false)]
    [InlineData("tenant_??", "tenant_42", true)]
    [InlineData("tenant_??", "tenant_420", false)]
    [InlineData("a.b*", "axb", false)]
    [InlineData("a.b*", "a.bc", true)]
    public void Matches_GlobWithStarAndQuestionMark_IsExactAndCaseSensitive(string pattern, string name, bool expected) =>
        Assert.Equal(expected, DatabaseSelection.Matches(pattern, name));

    [Theory]
    [InlineData("hellojohn_*", "*_tenant_*", true)]
    [InlineData("hellojohn_tenant_*", "hellojohn_*", true)]
    [InlineData("a*", "b*", false)]
    [InlineData("*x", "*y", false)]
    [InlineData("a?c", "ab*", true)]
    [InlineData("tenant_?", "tenant_??", false)]
    [InlineData("*", "anything_*", true)]
    public void PatternsIntersect_TellsWhetherOneNameMatchesBoth(string a, string b, bool expected)
    {
        Assert.Equal(expected, DatabaseSelection.PatternsIntersect(a, b));
        Assert.Equal(expected, DatabaseSelection.PatternsIntersect(b, a));
    }

    [Fact]
    public void OverlapWith_NamesWhatTwoSelectionsShare()
    {
        var tenants = new DatabaseSelection(["hellojohn"], ["hellojohn_tenant_*"]);
        Assert.Equal("the database hellojohn", tenants.OverlapWith(new DatabaseSelection(["hellojohn"], [])));
        Assert.Equal("the database hellojohn_tenant_acme", tenants.OverlapWith(new DatabaseSelection(["hellojohn_tenant_acme"], [])));
        Assert.Contains("hellojohn_*", tenants.OverlapWith(new DatabaseSelection([], ["hellojohn_*"])));
        Assert.Null(tenants.OverlapWith(new DatabaseSelection(["billing"], ["crm_*"])));
    }

    [Fact]
    public void From_SplitsLinesAndCommas_DropsBlanksAndRepeats()
    {
        var selection = DatabaseSelection.From("hellojohn\n\n hellojohn ,control", "a_*,b_*\r\na_*");
        Assert.Equal(["hellojohn", "control"], selection.Databases);
        Assert.Equal(["a_*", "b_*"], selection.Patterns);
        Assert.Equal("listed", selection.SelectedBy("control"));
        Assert.Equal("b_*", selection.SelectedBy("b_x"));
        Assert.Null(selection.SelectedBy("c_x"));
    }

    [Fact]
    public void Problems_WildcardInANameOrNoneInAPattern_AreExplained()
    {
        var problems = new DatabaseSelection(["tenant_*", new string('x', 64)], ["exact_name"]).Problems();
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("put it under patterns"));
        Assert.Contains(problems, p => p.Contains("63-byte"));
        Assert.Contains(problems, p => p.Contains("has no * or ?"));
        Assert.Empty(new DatabaseSelection(["hellojohn"], ["hellojohn_tenant_*"]).Problems());
    }
}
