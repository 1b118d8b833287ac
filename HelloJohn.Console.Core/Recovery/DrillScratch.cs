using System.Globalization;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Targets;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>A drill's scratch database on the target's own server, created and dropped through
/// <see cref="ServerDatabases"/>; only names the drill creates are ever dropped.</summary>
public sealed class DrillScratch(TargetService targets, TimeProvider time)
{
    public const string Prefix = "hellojohn_drill_";

    /// <summary>Creates the run's scratch database (once) and points the run's new connection at it.</summary>
    public async Task<NpgsqlConnectionStringBuilder> CreateAsync(RecoveryRun run, CancellationToken ct)
    {
        var live = await targets.GetConnectionAsync(run.TargetId, ct);
        var name = run.ScratchDatabase ?? Prefix + time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        await using var conn = new NpgsqlConnection(live.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        if (!await ServerDatabases.ExistsAsync(conn, name, ct))
        {
            await ServerDatabases.CreateAsync(conn, name, ct);
        }

        run.ScratchDatabase = name;
        run.NewServerVersion = await DatabaseInspector.ServerVersionAsync(conn, ct);
        return live.WithDatabase(name);
    }

    /// <summary>Drops the run's scratch database; false when it has none (or a name the drill did not make).</summary>
    public async Task<bool> DropAsync(Guid targetId, string? name, CancellationToken ct)
    {
        if (name is null || !name.StartsWith(Prefix, StringComparison.Ordinal) || name.Length > 63)
        {
            return false;
        }

        var live = await targets.GetConnectionAsync(targetId, ct);
        NpgsqlConnection.ClearAllPools();
        List<string> all = [name];
        await using (var conn = new NpgsqlConnection(live.Unpooled().ConnectionString))
        {
            await conn.OpenAsync(ct);
            // A set's other databases were restored beside it, as name_2, name_3…
            all.AddRange((await ServerDatabases.ListAsync(conn, name + "_", ct)).Select(d => d.Item1));
        }

        foreach (var database in all)
        {
            // Autovacuum visits a freshly restored database; dropping retries until it has gone.
            if (await ServerDatabases.DropOwnAsync(live, database, time, ct) is { } reason)
            {
                throw new InvalidOperationException($"{database} could not be dropped: {reason}");
            }
        }

        return true;
    }

    public async Task<bool> ExistsAsync(Guid targetId, string? name, CancellationToken ct)
    {
        var live = await targets.GetConnectionAsync(targetId, ct);
        await using var conn = new NpgsqlConnection(live.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        return await ServerDatabases.ExistsAsync(conn, name ?? "", ct);
    }
}
