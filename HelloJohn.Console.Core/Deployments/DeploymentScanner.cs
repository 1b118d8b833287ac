using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HelloJohn.Console.Core.Deployments;

/// <summary>A database on a deployment's server, with its size when the connecting role may see it.</summary>
public sealed record FoundDatabase(string Name, long? SizeBytes);

/// <summary>What a deployment's selection picks on its server right now.</summary>
/// <param name="ServerIdentity">See <see cref="Deployments.ServerIdentity"/>.</param>
/// <param name="Protected">Selected and present: what a set backs up, largest first.</param>
/// <param name="NotProtected">Present and selected by nothing (templates, <c>postgres</c>, the console's own database and
/// its throw-away verification databases left out).</param>
/// <param name="MissingListed">Databases listed by name that the server does not have.</param>
/// <param name="UnmatchedPatterns">Patterns that match no database now.</param>
/// <param name="ConsoleDatabaseSelected">The console's own database, when the selection picks it (it is never backed up
/// as HelloJohn's).</param>
public sealed record DeploymentScan(
    string ServerIdentity,
    DateTimeOffset At,
    IReadOnlyList<FoundDatabase> Protected,
    IReadOnlyList<FoundDatabase> NotProtected,
    IReadOnlyList<string> MissingListed,
    IReadOnlyList<string> UnmatchedPatterns,
    string? ConsoleDatabaseSelected);

/// <summary>Looks at a deployment's server: which databases its selection picks now, which it does not, and, against
/// what was found before, which selected databases are gone. Every set starts here, so a tenant created since the last
/// set is in the next one.</summary>
public sealed class DeploymentScanner(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    ConsoleDatabaseGuard consoleDatabase,
    TimeProvider time)
{
    /// <summary>Databases the console itself creates and drops (verification's), never worth reporting.</summary>
    public const string ThrowAwayPrefix = "hellojohn_verify_";

    private const string DatabasesSql = """
        SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END
        FROM pg_database
        WHERE NOT datistemplate AND datallowconn
        ORDER BY datname
        """;

    /// <summary>Connects with <paramref name="connection"/> and evaluates <paramref name="selection"/> on its server.
    /// Throws <see cref="NpgsqlException"/> when the server cannot be reached.</summary>
    public async Task<DeploymentScan> ScanAsync(NpgsqlConnectionStringBuilder connection, DatabaseSelection selection, CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false, Timeout = Math.Min(connection.Timeout, 15) };
        await using var conn = new NpgsqlConnection(probe.ConnectionString);
        await conn.OpenAsync(ct);
        var identity = await ServerIdentity.OfAsync(conn, connection, ct);
        var all = new List<FoundDatabase>();
        await using (var cmd = new NpgsqlCommand(DatabasesSql, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                all.Add(new FoundDatabase(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt64(1)));
            }
        }

        string? consoleSelected = null;
        var selected = new List<FoundDatabase>();
        var others = new List<FoundDatabase>();
        foreach (var found in all)
        {
            var isConsole = await consoleDatabase.IsConsoleDatabaseAsync(identity, connection, found.Name, ct);
            if (isConsole && selection.Selects(found.Name))
            {
                consoleSelected = found.Name;
            }
            else if (selection.Selects(found.Name))
            {
                selected.Add(found);
            }
            else if (!isConsole && found.Name != "postgres" && !found.Name.StartsWith(ThrowAwayPrefix, StringComparison.Ordinal))
            {
                others.Add(found);
            }
        }

        var names = all.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        return new DeploymentScan(
            identity,
            time.GetUtcNow(),
            [.. selected.OrderByDescending(d => d.SizeBytes ?? 0).ThenBy(d => d.Name, StringComparer.Ordinal)],
            others,
            [.. selection.Databases.Where(d => !names.Contains(d))],
            [.. selection.Patterns.Where(p => !all.Any(d => DatabaseSelection.Matches(p, d.Name)))],
            consoleSelected);
    }

    /// <summary>Scans the deployment's server with its stored selection and records what was found.</summary>
    public async Task<DeploymentScan> RefreshAsync(Guid targetId, CancellationToken ct)
    {
        var target = await targets.GetAsync(targetId, ct);
        var connection = await targets.GetConnectionAsync(targetId, ct);
        var scan = await ScanAsync(connection, target.Selection, ct);
        await RecordAsync(targetId, scan, ct);
        return scan;
    }

    /// <summary>Brings the deployment's list of databases in line with <paramref name="scan"/>: selected ones that are
    /// missing now become gone (and stay listed), ones that came back are protected again, and the server's other
    /// databases are listed as not protected.</summary>
    public async Task RecordAsync(Guid targetId, DeploymentScan scan, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Two runs of one deployment may scan at once (two console instances): one writer at a time.
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtext('hellojohn-console:deployment-scan:' || {0}))", [targetId.ToString()], ct);
        var known = await db.Set<DeploymentDatabase>().Where(d => d.TargetId == targetId).ToDictionaryAsync(d => d.Name, StringComparer.Ordinal, ct);
        var target = await db.Targets.SingleAsync(t => t.Id == targetId, ct);
        target.ServerIdentity = scan.ServerIdentity;
        var selection = target.Selection;

        void Upsert(FoundDatabase found, DeploymentDatabaseState state)
        {
            if (!known.Remove(found.Name, out var row))
            {
                row = new DeploymentDatabase { TargetId = targetId, Name = found.Name, FirstSeenAt = scan.At };
                db.Add(row);
            }

            row.State = state;
            row.SelectedBy = selection.SelectedBy(found.Name);
            row.SizeBytes = found.SizeBytes;
            row.LastSeenAt = scan.At;
            row.GoneSince = null;
        }

        foreach (var found in scan.Protected)
        {
            Upsert(found, DeploymentDatabaseState.Protected);
        }

        foreach (var found in scan.NotProtected)
        {
            Upsert(found, DeploymentDatabaseState.NotProtected);
        }

        foreach (var missing in known.Values)
        {
            // A database nobody selects any more (an administrator changed the selection, audited) is let go.
            if (missing.State == DeploymentDatabaseState.NotProtected || !selection.Selects(missing.Name))
            {
                db.Remove(missing);
            }
            else if (missing.State == DeploymentDatabaseState.Protected)
            {
                missing.State = DeploymentDatabaseState.Gone;
                missing.GoneSince = scan.At;
            }
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The deployment's databases as last found, protected first, then gone, then not protected.</summary>
    public async Task<IReadOnlyList<DeploymentDatabase>> DatabasesAsync(Guid targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<DeploymentDatabase>().AsNoTracking().Where(d => d.TargetId == targetId).ToListAsync(ct);
        return [.. rows.OrderBy(d => d.State).ThenBy(d => d.Name, StringComparer.Ordinal)];
    }

    /// <summary>Why the server behind <paramref name="connection"/> cannot be reached, in words without credentials;
    /// null when it can.</summary>
    public static async Task<string?> ReachProblemAsync(NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Timeout = 10, Pooling = false };
        try
        {
            await using var conn = new NpgsqlConnection(probe.ConnectionString);
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(ct);
            return null;
        }
        catch (PostgresException e)
        {
            return $"PostgreSQL said: {e.MessageText} ({e.SqlState}).";
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return $"no PostgreSQL answered at {connection.Host}:{connection.Port} (check host, port and network).";
        }
    }
}
