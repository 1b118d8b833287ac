using System.Globalization;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Restores;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Verify row counts against the manifest": counts every table of the restored database and compares with
/// the counts taken in the backup's snapshot, as every restore does (provider schemas, and tables that were there
/// before a confirmed restore, left out).</summary>
internal sealed class VerifyCountsStep(RecoveryBackups backups, RecoveryParts parts) : IRecoveryStep
{
    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var all = await parts.OfAsync(ctx, ct);
        var tables = 0;
        long rows = 0;
        foreach (var part in all)
        {
            var expected = await backups.ExpectedCountsAsync(part.BackupId, part.FileName, ct);
            if (all.Count > 1)
            {
                await ctx.LogAsync($"{part.Into.Database} ({part.Database}):");
            }

            if (await CompareAsync(ctx, part.Into, expected, ct) is { } mismatch)
            {
                return CheckOutcome.Fail($"The restored database {part.Into.Database} differs from the manifest of {part.FileName}: {mismatch}. Do not point HelloJohn at it; restore again or choose another backup.");
            }

            tables += expected.Count;
            rows += expected.Sum(e => e.Rows);
        }

        return CheckOutcome.Pass(all.Count == 1
            ? $"All {tables} tables match the manifest ({rows.ToString("N0", CultureInfo.InvariantCulture)} rows)."
            : $"All {all.Count} databases of the set match their manifests: {tables} tables, {rows.ToString("N0", CultureInfo.InvariantCulture)} rows.");
    }

    /// <summary>Counts every table of <paramref name="into"/> and compares with the manifest's; the mismatch in words, or null.</summary>
    private static async Task<string?> CompareAsync(RecoveryStepContext ctx, Npgsql.NpgsqlConnectionStringBuilder into, IReadOnlyList<Postgres.TableRowCount> expected, CancellationToken ct)
    {
        var actual = await RestoreEngine.CountAsync(into, Math.Max(2, Environment.ProcessorCount), ct);

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

        return TableCountComparison.DescribeMismatches(results);
    }
}
