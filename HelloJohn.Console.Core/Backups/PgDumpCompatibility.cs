using System.Text.RegularExpressions;
using HelloJohn.Console.Core.Recovery;

namespace HelloJohn.Console.Core.Backups;

/// <summary>pg_dump refuses to dump a server of a newer major version than its own ("server version mismatch"), deep
/// inside the run. The backup checks it first and says which package to install.</summary>
public static partial class PgDumpCompatibility
{
    /// <summary>The newest PostgreSQL major version the console is tested against and its container ships a client for.</summary>
    public const int NewestSupportedServerMajor = 17;

    /// <summary>Throws <see cref="PgDumpFailedException"/> when <paramref name="pgDumpVersion"/> (pg_dump --version)
    /// is older than <paramref name="serverVersion"/> (SHOW server_version). Versions it cannot read are left to pg_dump.</summary>
    public static void EnsureCanDump(string pgDumpVersion, string serverVersion, string where)
    {
        var client = VersionNumber().Match(pgDumpVersion) is { Success: true } m ? PostgresVersion.TryParse(m.Groups[1].Value) : null;
        var server = PostgresVersion.TryParse(serverVersion);
        if (client is null || server is null || client.Major >= server.Major)
        {
            return;
        }

        throw new PgDumpFailedException(
            $"This console's pg_dump is version {client.Text}, older than PostgreSQL {server.Text} on {where}: pg_dump must be at least the server's major version ({server.MajorText}). " +
            $"Install postgresql-client-{server.MajorText} (Debian and Ubuntu; PostgreSQL's apt repository apt.postgresql.org has every version), " +
            $"then restart the console or set HELLOJOHN_PG_BIN to /usr/lib/postgresql/{server.MajorText}/bin. Nothing was written.");
    }

    /// <summary>"pg_dump (PostgreSQL) 15.18 (Debian 15.18-1.pgdg120+1)" → "15.18".</summary>
    [GeneratedRegex(@"\)\s+(\d+(?:\.\d+)*)")]
    private static partial Regex VersionNumber();
}
