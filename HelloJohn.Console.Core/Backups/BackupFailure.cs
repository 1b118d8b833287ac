using System.Net.Sockets;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using Npgsql;

namespace HelloJohn.Console.Core.Backups;

/// <summary>Turns what went wrong during a backup into a sentence for the person reading the Backups page.</summary>
public static class BackupFailure
{
    public static string Describe(Exception e, NpgsqlConnectionStringBuilder? target) => Classify(e, target).Message;

    /// <summary>The sentence and, as data, the kind of failure (the recovery wizards date an incident by it).</summary>
    public static (string Message, RunFailureKind Kind) Classify(Exception e, NpgsqlConnectionStringBuilder? target)
    {
        var where = target?.Describe() ?? "the HelloJohn database";
        var fix = "Check HELLOJOHN_DATABASE_URL (host, port, database, user and password).";
        return e switch
        {
            PostgresException { SqlState: "28P01" or "28000" } pg => ($"Could not sign in to {where}: {pg.MessageText}. Nothing was backed up. {fix}", RunFailureKind.TargetRefused),
            PostgresException { SqlState: "3D000" } pg => ($"The database of {where} does not exist ({pg.MessageText}). Nothing was backed up. {fix}", RunFailureKind.TargetRefused),
            PostgresException pg => ($"PostgreSQL refused the backup on {where}: {pg.MessageText} ({pg.SqlState}). Nothing was kept.", RunFailureKind.TargetRefused),
            NpgsqlException { InnerException: SocketException or TimeoutException } or SocketException or TimeoutException =>
                ($"Could not reach {where}: the server did not answer. Nothing was backed up. Check that PostgreSQL runs and that the host and port are right. {fix}", RunFailureKind.TargetUnreachable),
            NpgsqlException n => ($"Could not talk to {where}: {n.Message}. Nothing was backed up. {fix}", RunFailureKind.TargetRefused),
            IOException io => ($"The backup could not be written to storage: {io.Message} Nothing was kept.", RunFailureKind.Storage),
            UnauthorizedAccessException ua => ($"The backup folder is not writable: {ua.Message} Nothing was kept. Fix its permissions or set Storage__Local__Directory.", RunFailureKind.Storage),
            OperationCanceledException => ("The backup was cancelled. Nothing was kept.", RunFailureKind.Unexpected),
            _ => ($"The backup failed: {e.Message} Nothing was kept.", RunFailureKind.Unexpected),
        };
    }
}

/// <summary>pg_dump itself failed; its last error line is in the message.</summary>
public sealed class PgDumpFailedException(string message) : Exception(message);

/// <summary>A backup ran and did not succeed; its record holds the same message.</summary>
public sealed class BackupFailedException(string message, Exception inner) : Exception(message, inner)
{
    public RunFailureKind FailureKind { get; init; } = RunFailureKind.Unexpected;
}
