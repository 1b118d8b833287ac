using System.Net.Sockets;
using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Core.Backups;

/// <summary>Turns what went wrong during a backup into a sentence for the person reading the Backups page.</summary>
public static class BackupFailure
{
    public static string Describe(Exception e, NpgsqlConnectionStringBuilder? target)
    {
        var where = target?.Describe() ?? "the HelloJohn database";
        var fix = "Check HELLOJOHN_DATABASE_URL (host, port, database, user and password).";
        return e switch
        {
            PostgresException { SqlState: "28P01" or "28000" } pg => $"Could not sign in to {where}: {pg.MessageText}. Nothing was backed up. {fix}",
            PostgresException { SqlState: "3D000" } pg => $"The database of {where} does not exist ({pg.MessageText}). Nothing was backed up. {fix}",
            PostgresException pg => $"PostgreSQL refused the backup on {where}: {pg.MessageText} ({pg.SqlState}). Nothing was kept.",
            NpgsqlException { InnerException: SocketException or TimeoutException } or SocketException or TimeoutException =>
                $"Could not reach {where}: the server did not answer. Nothing was backed up. Check that PostgreSQL runs and that the host and port are right. {fix}",
            NpgsqlException n => $"Could not talk to {where}: {n.Message}. Nothing was backed up. {fix}",
            IOException io => $"The backup could not be written to storage: {io.Message} Nothing was kept.",
            UnauthorizedAccessException ua => $"The backup folder is not writable: {ua.Message} Nothing was kept. Fix its permissions or set Storage__Local__Directory.",
            OperationCanceledException => "The backup was cancelled. Nothing was kept.",
            _ => $"The backup failed: {e.Message} Nothing was kept.",
        };
    }
}

/// <summary>pg_dump itself failed; its last error line is in the message.</summary>
public sealed class PgDumpFailedException(string message) : Exception(message);
