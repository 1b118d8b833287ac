using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Rows of one table after a backup was restored (by a restore, a verification), beside the count in its
/// manifest. Each kind keeps them in a table of its own.</summary>
public abstract class RunTableCount
{
    public Guid RunId { get; set; }
    public string Schema { get; set; } = "";
    public string Table { get; set; } = "";
    public long? Expected { get; set; }
    public long? Actual { get; set; }
}

public static class RunTableCounts
{
    /// <summary>Keeps a restore's comparison with the manifest, table by table.</summary>
    public static async Task SaveAsync<TRow>(IDbContextFactory<ConsoleDbContext> dbFactory, Guid runId, IReadOnlyList<TableCountResult> comparison)
        where TRow : RunTableCount, new()
    {
        // The record must say what happened even when the run itself was cancelled.
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.Set<TRow>().AddRange(comparison.Select(c => new TRow { RunId = runId, Schema = c.Schema, Table = c.Table, Expected = c.Expected, Actual = c.Actual }));
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>The kept rows as a comparison again, in the usual table order.</summary>
    public static IReadOnlyList<TableCountResult> ToComparison(IEnumerable<RunTableCount> rows)
    {
        var list = rows.ToList();
        return TableCountComparison.Compare(
            list.Where(t => t.Expected is not null).Select(t => new ManifestTableCount(t.Schema, t.Table, t.Expected!.Value)),
            list.Where(t => t.Actual is not null).Select(t => new TableRowCount(t.Schema, t.Table, t.Actual!.Value)));
    }

    /// <summary>The mapping every kind's table of counts shares.</summary>
    internal static void Configure<TRow>(EntityTypeBuilder<TRow> e, string table) where TRow : RunTableCount
    {
        e.ToTable(table);
        e.HasKey(x => new { x.RunId, x.Schema, x.Table });
        e.Property(x => x.Schema).HasMaxLength(128);
        e.Property(x => x.Table).HasMaxLength(128);
    }
}
