using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Restores;

/// <summary>How the engine finds the database it restores into.</summary>
public enum DatabaseCreation
{
    /// <summary>It exists: restore into it (in place, or a recovery's existing empty database).</summary>
    Existing,
    /// <summary>Create it; it must not exist, unless <see cref="RestoreSpec.ReplaceExisting"/> (then it is dropped first).</summary>
    New,
    /// <summary>Create it when it does not exist yet.</summary>
    IfMissing,
    /// <summary>Create a throw-away database under the first free name <see cref="RestoreSpec.NameForAttempt"/> gives.</summary>
    FreshName,
}

/// <summary>One restore for the <see cref="RestoreEngine"/>: which backup, into which server and database, and how.</summary>
/// <param name="Server">A connection to the server (its database is only used to connect for creating and dropping).</param>
public sealed record RestoreSpec(Guid BackupId, NpgsqlConnectionStringBuilder Server, string Database, ArchiveRestoreStyle Style, int Jobs)
{
    public DatabaseCreation Creation { get; init; } = DatabaseCreation.New;
    public bool ReplaceExisting { get; init; }
    /// <summary>In place: one transaction, so a failure leaves the database as it was (pg_restore cannot combine it with -j).</summary>
    public bool SingleTransaction { get; init; }
    /// <summary>Count every table afterwards and compare with the manifest (a recovery counts in its own later step).</summary>
    public bool Count { get; init; } = true;
    /// <summary>Why an existing database must not be replaced (the console's own, a protected target's); null when it may.</summary>
    public Func<string, CancellationToken, Task<string?>>? Protected { get; init; }
    /// <summary><see cref="DatabaseCreation.FreshName"/>: the name for each attempt (1, 2, …).</summary>
    public Func<int, string>? NameForAttempt { get; init; }
}

/// <summary>What the caller hears, and may do, as the restore goes.</summary>
public sealed record RestoreEvents
{
    public Func<RestorePhase, Task> Phase { get; init; } = _ => Task.CompletedTask;
    /// <summary>(tables loaded, tables in the archive, table name).</summary>
    public Action<int, int, string> TableLoaded { get; init; } = (_, _, _) => { };
    /// <summary>After the checks, before anything is written (a restore in place takes its safety backup here).</summary>
    public Func<CheckedArchive, CancellationToken, Task> BeforeWriting { get; init; } = (_, _) => Task.CompletedTask;
    /// <summary>The database name about to be created, so a crash right after leaves a record of it.</summary>
    public Func<string, Task> Naming { get; init; } = _ => Task.CompletedTask;
}

/// <summary>One restore as it went, for the caller's record and clean-up, whether it ended well or not.</summary>
public sealed class RestoreSession : IAsyncDisposable
{
    public required string Database { get; set; }
    public CheckedArchive? Archive { get; internal set; }
    /// <summary>This restore created the database (only then may a failure drop it).</summary>
    public bool CreatedDatabase { get; internal set; }
    /// <summary>When pg_restore first wrote; null means nothing was written.</summary>
    public DateTimeOffset? WritingStartedAt { get; internal set; }
    public TimeSpan? ChecksDuration { get; internal set; }
    public TimeSpan? RestoreDuration { get; internal set; }
    public TimeSpan? CountDuration { get; internal set; }
    public IReadOnlyList<TableCountResult> Comparison { get; internal set; } = [];
    public long? Rows { get; internal set; }
    /// <summary>The tables whose counts differ from the manifest, in a sentence; null when all match.</summary>
    public string? Mismatch => Comparison.Count == 0 ? null : TableCountComparison.DescribeMismatches(Comparison);

    public async ValueTask DisposeAsync()
    {
        if (Archive is not null)
        {
            await Archive.DisposeAsync();
        }
    }
}

/// <summary>pg_restore's last error, after it wrote (or tried to write) into the database.</summary>
public sealed class PgRestoreFailedException(string error) : Exception($"pg_restore failed: {error}")
{
    public string Error { get; } = error;
}

/// <summary>The one way a backup goes back into a database, for restores, verifications, the recovery wizards and the
/// drill: the file is proven (catalog, manifest, size, SHA-256, <c>pg_restore --list</c>) before anything is touched,
/// then the database is created, the archive restored, every table counted (from the system catalog, never by fixed
/// names) and compared with the manifest. What to do when it fails (drop, keep, roll back) is the caller's call.</summary>
public sealed class RestoreEngine(BackupArchiveChecker checker, IPgToolRunner pgTools, TimeProvider time, ILogger<RestoreEngine> logger)
{
    private const int MaxNameAttempts = 5;

    /// <summary>Runs the restore into <paramref name="session"/>. Throws <see cref="ArchiveCheckFailedException"/>
    /// (nothing touched), <see cref="PgRestoreFailedException"/>, a database error or the cancellation; the session
    /// says how far it got either way.</summary>
    public async Task RunAsync(RestoreSpec spec, RestoreSession session, RestoreEvents events, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        await events.Phase(RestorePhase.Checking);
        session.Archive = await checker.CheckAsync(spec.BackupId, ct);
        session.ChecksDuration = time.GetElapsedTime(started);
        await events.BeforeWriting(session.Archive, ct);

        if (spec.Creation != DatabaseCreation.Existing)
        {
            await events.Phase(RestorePhase.Creating);
            await CreateAsync(spec, session, events, ct);
        }

        session.WritingStartedAt = time.GetUtcNow();
        await events.Phase(RestorePhase.Restoring);
        started = time.GetTimestamp();
        var loaded = 0;
        var archive = session.Archive;
        var into = spec.Server.Unpooled(session.Database);
        var result = await ArchiveRestore.RunAsync(pgTools, into, archive, spec.Style, spec.Jobs, spec.SingleTransaction,
            table => events.TableLoaded(Interlocked.Increment(ref loaded), archive.TableDataEntries, table), ct);
        session.RestoreDuration = time.GetElapsedTime(started);
        if (!result.Succeeded)
        {
            throw new PgRestoreFailedException(result.ErrorSummary);
        }

        if (spec.Count)
        {
            await events.Phase(RestorePhase.Counting);
            started = time.GetTimestamp();
            var counts = await CountAsync(into, spec.Jobs, ct);
            session.CountDuration = time.GetElapsedTime(started);
            session.Rows = counts.Sum(c => c.Rows);
            session.Comparison = TableCountComparison.Compare(archive.Manifest.Tables, counts);
        }

        logger.LogInformation("Restored {File} into {Database} on {Server}:{Port} in {Duration}", archive.Manifest.FileName, session.Database, spec.Server.Host, spec.Server.Port,
            session.RestoreDuration);
    }

    /// <summary>Exact row counts of every table of the database <paramref name="into"/> names.</summary>
    public static Task<IReadOnlyList<TableRowCount>> CountAsync(NpgsqlConnectionStringBuilder into, int connections, CancellationToken ct) =>
        DatabaseInspector.CountRowsAsync(into.Unpooled(), Math.Max(1, connections), ct);

    private async Task CreateAsync(RestoreSpec spec, RestoreSession session, RestoreEvents events, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(spec.Server.Unpooled().ConnectionString);
        await conn.OpenAsync(ct);
        if (spec.Creation == DatabaseCreation.FreshName)
        {
            for (var attempt = 1; ; attempt++)
            {
                session.Database = spec.NameForAttempt!(attempt);
                await events.Naming(session.Database);
                try
                {
                    await ServerDatabases.CreateAsync(conn, session.Database, ct);
                    session.CreatedDatabase = true;
                    return;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase && attempt < MaxNameAttempts)
                {
                    logger.LogInformation("{Database} exists already; trying the next name", session.Database);
                }
            }
        }

        if (await ServerDatabases.ExistsAsync(conn, session.Database, ct))
        {
            if (spec.Creation == DatabaseCreation.IfMissing)
            {
                return;
            }

            if (!spec.ReplaceExisting)
            {
                throw new RestoreFailedException($"A database named {session.Database} was created after this restore was requested. It was left alone and nothing was restored; request again and confirm replacing it, or choose another name.");
            }

            if (spec.Protected is { } check && await check(session.Database, ct) is { } reason)
            {
                throw new RestoreFailedException($"{session.Database} cannot be replaced: {reason} Nothing was dropped or restored.");
            }

            logger.LogWarning("Dropping {Database} on {Server} to replace it, as confirmed", session.Database, $"{spec.Server.Host}:{spec.Server.Port}");
            // The same retrying drop as for the console's own databases: autovacuum or a session of another role may
            // hold it for a moment; what still holds it after that is said, and nothing is restored.
            if (await ServerDatabases.DropOwnAsync(spec.Server, session.Database, time, ct) is { } notDropped)
            {
                var who = await ServerDatabases.SessionsInAsync(spec.Server, session.Database) is { } sessions ? $" Connected: {sessions}." : "";
                throw new RestoreFailedException($"{session.Database} could not be dropped to replace it: {notDropped}.{who} Nothing was restored; disconnect what uses it (stop HelloJohn first), then restore again.");
            }
        }

        await events.Naming(session.Database);
        await ServerDatabases.CreateAsync(conn, session.Database, ct);
        session.CreatedDatabase = true;
    }
}
