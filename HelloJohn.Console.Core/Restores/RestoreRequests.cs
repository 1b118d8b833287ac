using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Restores;

/// <summary>The rules a restore request must pass before it is queued: the backup is finished, the name is usable and
/// free (or its replacement confirmed and allowed), in place is typed and confirmed, and no other restore goes into the
/// same database (on this or another console instance).</summary>
public sealed class RestoreRequests(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    RestoreServers servers,
    ConsoleLocks locks,
    RunLifecycle lifecycle,
    IAuditLog audit,
    CallerGate gate,
    IOptionsMonitor<RestoreOptions> options)
{
    /// <summary>Checks the caller's permission and the request, and records the queued run. Throws
    /// <see cref="RestoreRefusedException"/> (nothing happened) or <see cref="PermissionDeniedException"/>.</summary>
    internal async Task<Guid> AcceptAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        var permission = request.Mode == RestoreMode.InPlace ? ConsolePermission.RestoreInPlace : ConsolePermission.RestoreToNewDatabase;
        var what = $"{request.Mode} → {request.DatabaseName}";
        actor = await gate.DemandAsync(actor, permission, AuditActions.RestoreRequested, what, ct);

        try
        {
            return await CreateRunAsync(actor, request, ct);
        }
        catch (RestoreRefusedException e)
        {
            await audit.RecordAsync(actor, AuditActions.RestoreRequested, what, AuditOutcome.Failed, e.Message, ct);
            throw;
        }
    }

    /// <summary>Why a name cannot be restored into, or whether it already exists, on the backup's target server, or on
    /// the server <paramref name="serverConnectionString"/> names.</summary>
    public async Task<DatabaseNameCheck> CheckDatabaseNameAsync(Guid backupId, string name, string? serverConnectionString, CancellationToken ct)
    {
        if (DatabaseNames.Problem(name) is { } problem)
        {
            return new DatabaseNameCheck(problem, false);
        }

        BackupRecord backup;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backup = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId, ct)
                ?? throw new KeyNotFoundException($"No backup {backupId}.");
        }

        NpgsqlConnectionStringBuilder connection;
        try
        {
            connection = string.IsNullOrWhiteSpace(serverConnectionString)
                ? await servers.OfTargetAsync(backup.TargetId, ct)
                : await servers.ParseAndReachAsync(serverConnectionString, ct);
        }
        catch (RestoreRefusedException e)
        {
            return new DatabaseNameCheck(e.Message.Replace(" Nothing was restored.", "", StringComparison.Ordinal), false);
        }

        if (string.IsNullOrWhiteSpace(serverConnectionString) && string.Equals(name, LiveDatabase(backup, connection), StringComparison.Ordinal))
        {
            return new DatabaseNameCheck($"'{name}' is the live HelloJohn database. Restoring over it is the in-place mode, for Admins only.", true);
        }

        await using var conn = new NpgsqlConnection(connection.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        return new DatabaseNameCheck(null, await ServerDatabases.ExistsAsync(conn, name, ct));
    }

    private async Task<Guid> CreateRunAsync(Actor actor, RestoreRequest request, CancellationToken ct)
    {
        BackupRecord? backup;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            backup = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == request.BackupId, ct);
        }

        if (backup is null)
        {
            throw new RestoreRefusedException($"There is no backup {request.BackupId} in the catalog. Nothing was restored.");
        }

        if (backup.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallyStored))
        {
            throw new RestoreRefusedException($"{backup.FileName} is {backup.Status.ToString().ToLowerInvariant()}; only a finished backup can be restored. Nothing was restored.");
        }

        NpgsqlConnectionStringBuilder connection;
        string? namedServer = null;
        if (request.ServerConnectionString is { } typed)
        {
            if (request.Mode == RestoreMode.InPlace)
            {
                throw new RestoreRefusedException("A restore in place goes into the live database through its target's own connection; a server you name is for a restore into a new database. Nothing was restored.");
            }

            connection = await servers.ParseAndReachAsync(typed, ct);
            namedServer = servers.Protect(connection);
        }
        else
        {
            connection = await servers.OfTargetAsync(backup.TargetId, ct);
        }

        var name = request.DatabaseName;
        // On a server named in the request the backup's own database name is a new database like any other.
        await CheckNameAsync(request, connection, namedServer is null ? LiveDatabase(backup, connection) : null, ct);

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var busy = await db.Set<RestoreRun>().AnyAsync(r => r.Run!.TargetId == backup.TargetId && r.DatabaseName == name &&
                (r.Run.Status == RunStatus.Queued || r.Run.Status == RunStatus.Running), ct);
            if (busy || await locks.IsHeldAsync(ConsoleLocks.ForRestore(backup.TargetId, name), ct))
            {
                throw new RestoreRefusedException($"Another restore into {name} is queued or running (on this or another console instance). Wait for it to finish; nothing was started.");
            }

            var run = lifecycle.NewRun(RunKind.Restore, backup.TargetId, actor, nameof(RestorePhase.Queued));
            var restore = new RestoreRun
            {
                Id = run.Id,
                BackupId = backup.Id,
                BackupFileName = backup.FileName,
                Mode = request.Mode,
                DatabaseName = name,
                Server = $"{connection.Host}:{connection.Port}",
                ProtectedServerConnection = namedServer,
                ReplaceExisting = request.Mode == RestoreMode.NewDatabase && request.ReplaceExisting,
                Jobs = request.Mode == RestoreMode.InPlace && options.CurrentValue.InPlaceSingleTransaction ? 1 : options.CurrentValue.EffectiveJobs,
            };
            db.AddRange(run, restore);
            await db.SaveChangesAsync(ct);
            var where = namedServer is null ? "" : $" on {connection.Describe()}, a server named in the request";
            await audit.RecordAsync(actor, AuditActions.RestoreRequested, $"{request.Mode} → {name}", AuditOutcome.Succeeded,
                $"from {backup.FileName}{where}{(restore.ReplaceExisting ? ", replacing the existing database" : "")}", ct);
            lifecycle.Queued(run);
            return run.Id;
        }
    }

    /// <summary>The live database a backup is of: its own (a set's member), else the one its deployment's connection names.</summary>
    internal static string LiveDatabase(BackupRecord backup, NpgsqlConnectionStringBuilder connection) => backup.DatabaseName ?? connection.Database!;

    private async Task CheckNameAsync(RestoreRequest request, NpgsqlConnectionStringBuilder connection, string? live, CancellationToken ct)
    {
        var name = request.DatabaseName;
        if (request.Mode == RestoreMode.InPlace)
        {
            if (live is null || !string.Equals(name, live, StringComparison.Ordinal))
            {
                throw new RestoreRefusedException($"A restore in place goes into the live database {live}, not '{name}'. Nothing was restored.");
            }

            if (!string.Equals(request.Confirmation, live, StringComparison.Ordinal))
            {
                throw new RestoreRefusedException($"To restore over the live database, type its name exactly: {live}. Nothing was restored.");
            }

            return;
        }

        if (DatabaseNames.Problem(name) is { } problem)
        {
            throw new RestoreRefusedException(problem + " Nothing was restored.");
        }

        if (live is not null && string.Equals(name, live, StringComparison.Ordinal))
        {
            throw new RestoreRefusedException($"'{name}' is the live HelloJohn database. Restoring over it is the in-place mode, for Admins only. Nothing was restored.");
        }

        await using var conn = new NpgsqlConnection(connection.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        if (await ServerDatabases.ExistsAsync(conn, name, ct))
        {
            if (!request.ReplaceExisting)
            {
                throw new RestoreRefusedException($"A database named {name} already exists on {connection.Host}:{connection.Port}. Choose another name, or confirm that it should be dropped and replaced. Nothing was restored.");
            }

            if (await ProtectedReasonAsync(connection, name, ct) is { } reason)
            {
                throw new RestoreRefusedException($"{name} cannot be replaced: {reason} Nothing was dropped or restored.");
            }
        }
    }

    /// <summary>Databases that "replace" must never drop: the console's own, and any protected HelloJohn target.</summary>
    public async Task<string?> ProtectedReasonAsync(NpgsqlConnectionStringBuilder server, string name, CancellationToken ct)
    {
        foreach (var t in await targets.ListAsync(ct))
        {
            if (t.Source == TargetConnectionSource.Unset)
            {
                continue;
            }

            var c = await targets.GetConnectionAsync(t.Id, ct);
            var protects = string.Equals(c.Database, name, StringComparison.Ordinal) || t.Selection.Selects(name);
            if (protects && c.Port == server.Port && string.Equals(c.Host, server.Host, StringComparison.OrdinalIgnoreCase))
            {
                return $"it is a database the deployment '{t.Name}' protects.";
            }
        }

        try
        {
            await using var conn = new NpgsqlConnection(server.Unpooled(name).ConnectionString);
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT to_regclass('public.__ef_migrations_history') IS NOT NULL AND to_regclass('public.backups') IS NOT NULL", conn);
            if ((bool)(await cmd.ExecuteScalarAsync(ct))!)
            {
                return "it holds a HelloJohn Console catalog (a console's own database).";
            }
        }
        catch (PostgresException)
        {
            // Not readable by the target's role: then it is not the console's database, which that role owns.
        }

        return null;
    }
}
