using Npgsql;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Restore into the new server" (or the drill's scratch database): the <see cref="RecoveryRestorer"/>
/// restores the chosen backup, and the check finds every table of the backup in the database.</summary>
internal sealed class RestoreStep(RecoveryRestorer restorer, RecoveryBackups backups, RecoveryParts parts) : IRecoveryStep
{
    public Task ActAsync(RecoveryStepContext ctx, CancellationToken ct) => restorer.RestoreAsync(ctx, ct);

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var all = await parts.OfAsync(ctx, ct);
        var tables = 0;
        foreach (var part in all)
        {
            var expected = await backups.ExpectedCountsAsync(part.BackupId, part.FileName, ct);
            var present = await TablesAsync(part.Into, ct);
            var missing = expected.Where(e => !present.Contains($"{e.Schema}.{e.Table}")).Select(e => e.QualifiedName).ToList();
            if (missing.Count > 0)
            {
                return CheckOutcome.Fail($"The restore did not create {missing.Count} table(s) of {part.FileName} in {part.Into.Database} ({string.Join(", ", missing.Take(5))}). Run the restore again.");
            }

            tables += expected.Count;
        }

        return all.Count == 1
            ? CheckOutcome.Pass($"{ctx.Run.BackupFileName} is restored into {ctx.Run.NewDatabaseDisplay}: all {tables} tables of the backup are there.")
            : CheckOutcome.Pass($"The set's {all.Count} databases are restored ({string.Join(", ", all.Select(p => p.Into.Database))}): all {tables} tables of their backups are there.");
    }

    /// <summary>Every table of the database, as schema.name.</summary>
    internal static async Task<HashSet<string>> TablesAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
