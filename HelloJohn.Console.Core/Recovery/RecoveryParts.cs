using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>One database a recovery restores: a backup and the database it goes into.</summary>
/// <param name="Main">The chosen backup, restored into the run's new database; the others go beside it.</param>
public sealed record RecoveryPart(Guid BackupId, string FileName, string Database, NpgsqlConnectionStringBuilder Into, bool Main);

/// <summary>What a recovery restores: the chosen backup alone, or, when it is a set's member, every kept database of the
/// set. On a new server each database keeps its name (HelloJohn finds its tenants by name); in a drill the others go
/// into scratch databases named after the run's (<c>hellojohn_drill_&lt;time&gt;_2</c>…), which the drill drops.</summary>
public sealed class RecoveryParts(IDbContextFactory<ConsoleDbContext> dbFactory)
{
    public async Task<IReadOnlyList<RecoveryPart>> OfAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var run = ctx.Run;
        if (run.BackupId is not { } chosen)
        {
            throw new RecoveryStepFailedException("No backup is chosen for this run. Nothing was restored.");
        }

        var into = ctx.NewConnection();
        if (run.SetId is not { } setId)
        {
            return [new RecoveryPart(chosen, run.BackupFileName ?? "", into.Database!, into, Main: true)];
        }

        List<BackupRecord> members;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            members = await db.Backups.AsNoTracking()
                .Where(b => b.SetId == setId && (b.Status == BackupStatus.Succeeded || b.Status == BackupStatus.PartiallyStored))
                .ToListAsync(ct);
        }

        var latest = members.GroupBy(m => m.DatabaseName ?? "", StringComparer.Ordinal).Select(g => g.MaxBy(m => m.CreatedAt)!)
            .OrderBy(m => m.Id != chosen).ThenBy(m => m.DatabaseName, StringComparer.Ordinal).ToList();
        var parts = new List<RecoveryPart>();
        for (var i = 0; i < latest.Count; i++)
        {
            var m = latest[i];
            var main = m.Id == chosen;
            var database = main ? into.Database! : run.ScratchDatabase is { } scratch ? $"{scratch}_{i + 1}" : m.DatabaseName!;
            parts.Add(new RecoveryPart(m.Id, m.FileName, m.DatabaseName ?? database, into.WithDatabase(database), main));
        }

        return parts;
    }

    /// <summary>Whether a database beside the chosen one already holds tables (a restore there would write over them).</summary>
    public static async Task<bool> HoldsTablesAsync(NpgsqlConnectionStringBuilder into, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(into.ConnectionString) { Pooling = false, Database = "postgres" }.ConnectionString);
        await conn.OpenAsync(ct);
        if (!await Restores.ServerDatabases.ExistsAsync(conn, into.Database!, ct))
        {
            return false;
        }

        await using var db = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(into.ConnectionString) { Pooling = false }.ConnectionString);
        await db.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg\\_%')", db);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
