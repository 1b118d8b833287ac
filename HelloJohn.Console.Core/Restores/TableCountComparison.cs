using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;

namespace HelloJohn.Console.Core.Restores;

/// <summary>One table's rows as the manifest counted them in the dump's snapshot, and as counted after restoring.
/// A null side means the table is missing there.</summary>
public sealed record TableCountResult(string Schema, string Table, long? Expected, long? Actual)
{
    public bool Matches => Expected is not null && Expected == Actual;
    public string QualifiedName => Schema == "public" ? Table : $"{Schema}.{Table}";
}

public static class TableCountComparison
{
    /// <summary>Pairs every table of the manifest and of the restored database; <c>hj_user</c> and <c>hj_session</c> first.</summary>
    public static IReadOnlyList<TableCountResult> Compare(IEnumerable<ManifestTableCount> expected, IEnumerable<TableRowCount> actual)
    {
        var results = new Dictionary<(string, string), TableCountResult>();
        foreach (var e in expected)
        {
            results[(e.Schema, e.Table)] = new TableCountResult(e.Schema, e.Table, e.Rows, null);
        }

        foreach (var a in actual)
        {
            results[(a.Schema, a.Table)] = results.TryGetValue((a.Schema, a.Table), out var r)
                ? r with { Actual = a.Rows }
                : new TableCountResult(a.Schema, a.Table, null, a.Rows);
        }

        var order = DatabaseInspector.Order(results.Values.Select(r => new TableRowCount(r.Schema, r.Table, 0)));
        return [.. order.Select(o => results[(o.Schema, o.Table)])];
    }

    /// <summary>A sentence naming the tables that differ, for the run's error; null when all match.</summary>
    public static string? DescribeMismatches(IReadOnlyList<TableCountResult> results)
    {
        var bad = results.Where(r => !r.Matches).ToList();
        if (bad.Count == 0)
        {
            return null;
        }

        static string One(TableCountResult r) => r switch
        {
            { Expected: null } => $"{r.QualifiedName} is not in the manifest ({r.Actual:N0} rows restored)",
            { Actual: null } => $"{r.QualifiedName} is missing after restore (manifest: {r.Expected:N0} rows)",
            _ => $"{r.QualifiedName} has {r.Actual:N0} rows, the manifest {r.Expected:N0}",
        };

        var shown = string.Join("; ", bad.Take(5).Select(One));
        return bad.Count > 5 ? $"{shown}; and {bad.Count - 5} more table(s)" : shown;
    }
}
