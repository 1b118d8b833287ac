using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Core.Restores;

/// <summary>How pg_restore writes into a database.</summary>
public enum ArchiveRestoreStyle
{
    /// <summary>Into an empty database, in parallel; owners and privileges of the source are not reproduced.</summary>
    ThrowAway,
    /// <summary>Into an empty database, in parallel, keeping the dump's privileges.</summary>
    NewDatabase,
    /// <summary>Over the live database: drop what the dump holds, then recreate it.</summary>
    InPlace,
}

/// <summary>Runs pg_restore for a checked archive, reporting each table as its data is loaded.</summary>
public static class ArchiveRestore
{
    public static Task<PgToolResult> RunAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder into, CheckedArchive archive, ArchiveRestoreStyle style,
        int jobs, bool singleTransaction, Action<string>? onTableLoaded, CancellationToken ct)
    {
        // Objects belong to the role that restores: the source's owners may not exist on this server.
        List<string> args = ["--no-owner", "--exit-on-error", "--verbose", "--no-password"];
        if (style == ArchiveRestoreStyle.ThrowAway)
        {
            args.Add("--no-privileges");
        }

        if (style == ArchiveRestoreStyle.InPlace)
        {
            args.AddRange(["--clean", "--if-exists"]);
        }

        if (style == ArchiveRestoreStyle.InPlace && singleTransaction)
        {
            // One transaction: a failure rolls back and leaves the live database as it was (pg_restore cannot combine it with -j).
            args.Add("--single-transaction");
        }
        else if (jobs > 1)
        {
            args.Add($"--jobs={jobs}");
        }

        args.AddRange(["--dbname", into.Database!, archive.Path]);
        return runner.RunAsync(new PgToolInvocation("pg_restore", args)
        {
            Connection = into,
            OnStandardErrorLine = line =>
            {
                // pg_restore --verbose: 'pg_restore: processing data for table "public.hj_user"'
                const string marker = "processing data for table \"";
                var at = line.IndexOf(marker, StringComparison.Ordinal);
                if (at >= 0 && onTableLoaded is not null)
                {
                    onTableLoaded(line[(at + marker.Length)..].TrimEnd('"'));
                }
            },
        }, ct);
    }
}
