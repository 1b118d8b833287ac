using System.Globalization;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Verify row counts against the manifest": counts every table of the restored database and compares with
/// the counts taken in the backup's snapshot, as every restore does (provider schemas, and tables that were there
/// before a confirmed restore, left out).</summary>
internal sealed class VerifyCountsStep(RecoveryBackups backups) : IRecoveryStep
{
    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var expected = await backups.ExpectedCountsAsync(ctx.Run, ct);
        var actual = await RestoreEngine.CountAsync(ctx.NewConnection(), ct);

        // The provider's own schemas are not HelloJohn's; tables that were there before a confirmed restore are not the backup's.
        var providerSchemas = NewServerProbe.ProviderSchemas(ctx.Run.Provider);
        var inManifest = expected.Select(e => (e.Schema, e.Table)).ToHashSet();
        var others = actual.Where(a => !providerSchemas.Contains(a.Schema) && !inManifest.Contains((a.Schema, a.Table))).ToList();
        var compared = actual.Where(a => !providerSchemas.Contains(a.Schema) && (!ctx.Run.NonEmptyConfirmed || inManifest.Contains((a.Schema, a.Table))));
        if (ctx.Run.NonEmptyConfirmed && others.Count > 0)
        {
            await ctx.LogAsync($"Not compared: {others.Count} table(s) that are not in the backup and were in the database before ({string.Join(", ", others.Take(5).Select(o => o.QualifiedName))}).", RecoveryLogLevel.Warning);
        }

        // The same comparison as the restore feature's: every table of the manifest and of the database, paired.
        var results = TableCountComparison.Compare(expected.Select(e => new ManifestTableCount(e.Schema, e.Table, e.Rows)), compared);
        foreach (var r in results)
        {
            var line = $"{r.QualifiedName}: {(r.Actual is { } a ? $"{a:N0} rows" : "missing")}, manifest {(r.Expected is { } e ? $"{e:N0}" : "has no such table")}";
            await ctx.LogAsync((r.Matches ? "✓ " : "✗ ") + line, r.Matches ? RecoveryLogLevel.Info : RecoveryLogLevel.Error);
        }

        var total = expected.Sum(e => e.Rows);
        return TableCountComparison.DescribeMismatches(results) is { } mismatch
            ? CheckOutcome.Fail($"The restored database differs from the manifest: {mismatch}. Do not point HelloJohn at it; restore again or choose another backup.")
            : CheckOutcome.Pass($"All {expected.Count} tables match the manifest ({total.ToString("N0", CultureInfo.InvariantCulture)} rows).");
    }
}
