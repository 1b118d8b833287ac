using System.Diagnostics;
using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>A shell pipeline of stock programs (pg_dump | zstd, zstd -d, …) as a person types it, connected the way
/// PostgreSQL's tools read their settings: PG* variables and a 0600 passfile, never the password on a command line.</summary>
public static class StockPipeline
{
    public static async Task RunAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder db, string script, CancellationToken ct)
    {
        var passFile = Path.Combine(Path.GetTempPath(), $"hjc-bench-{Guid.NewGuid():N}.pgpass");
        await using (var _ = new FileStream(passFile, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
        }

        await File.WriteAllTextAsync(passFile, $"{db.Host}:{db.Port}:*:{db.Username}:{db.Password?.Replace("\\", "\\\\").Replace(":", "\\:")}\n", ct);
        try
        {
            var start = new ProcessStartInfo("bash", ["-o", "pipefail", "-c", script])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            start.Environment["PATH"] = runner.Binaries.Directory + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["PGHOST"] = db.Host;
            start.Environment["PGPORT"] = db.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["PGUSER"] = db.Username;
            start.Environment["PGDATABASE"] = db.Database;
            start.Environment["PGPASSFILE"] = passFile;
            start.Environment.Remove("PGPASSWORD");
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.StandardOutput.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"'{script}' failed during the benchmark (exit {process.ExitCode}): {(await stderr).Trim()}. The figures of this run are not valid.");
            }
        }
        finally
        {
            File.Delete(passFile);
        }
    }

    /// <summary>A file name or database name as one shell word.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
