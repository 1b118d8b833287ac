using Npgsql;

namespace HelloJohn.Console.Core.Recovery.Steps;

/// <summary>"Restore into the new server" (or the drill's scratch database): the <see cref="RecoveryRestorer"/>
/// restores the chosen backup, and the check finds every table of the backup in the database.</summary>
internal sealed class RestoreStep(RecoveryRestorer restorer, RecoveryBackups backups) : IRecoveryStep
{
    public Task ActAsync(RecoveryStepContext ctx, CancellationToken ct) => restorer.RestoreAsync(ctx, ct);

    public async Task<CheckOutcome> CheckAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var expected = await backups.ExpectedCountsAsync(ctx.Run, ct);
        var present = await TablesAsync(ctx.NewConnection(), ct);
        var missing = expected.Where(e => !present.Contains($"{e.Schema}.{e.Table}")).Select(e => e.QualifiedName).ToList();
        return missing.Count == 0
            ? CheckOutcome.Pass($"{ctx.Run.BackupFileName} is restored into {ctx.Run.NewDatabaseDisplay}: all {expected.Count} tables of the backup are there.")
            : CheckOutcome.Fail($"The restore did not create {missing.Count} table(s) of the backup ({string.Join(", ", missing.Take(5))}). Run the restore again.");
    }

    /// <summary>Every table of the database, as schema.name.</summary>
    private static async Task<HashSet<string>> TablesAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
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
