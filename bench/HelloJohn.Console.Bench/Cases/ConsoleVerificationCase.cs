using System.Globalization;
using System.Security.Cryptography;
using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Postgres;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>The console's verification sequence: prove the file against its manifest (SHA-256, pg_restore --list),
/// restore into a throw-away database with <c>pg_restore -j</c>, count every table, compare with the manifest, drop.
/// Runs through the console's <see cref="IPgToolRunner"/> until the Verification service is on this branch.</summary>
public static class ConsoleVerificationCase
{
    public static async Task<RunSample> RunAsync(IPgToolRunner runner, NpgsqlConnectionStringBuilder server, string backupPath, int jobs, string scratchDirectory, CancellationToken ct)
    {
        await using var sampler = new ChildPeakRssSampler();
        var clock = RunClock.Start();
        var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(backupPath + BackupManifest.Suffix, ct));
        string sha256;
        await using (var file = File.OpenRead(backupPath))
        {
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
        }

        if (sha256 != manifest.Sha256)
        {
            throw new InvalidOperationException($"{backupPath} does not match its manifest's SHA-256; the benchmark stopped before restoring it.");
        }

        string? decompressed = null;
        var name = $"hellojohn_verify_{DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}_bench";
        var created = false;
        try
        {
            var archive = backupPath;
            if (BackupCompression.IsZstd(manifest.Compression))
            {
                // pg_restore -j needs a seekable archive: the zstd frame is unpacked to a file first.
                decompressed = Path.Combine(scratchDirectory, Path.GetFileName(backupPath) + ".restore");
                await BackupCompression.DecompressAsync(backupPath, decompressed, ct);
                archive = decompressed;
            }

            DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("pg_restore", ["--list", archive]), ct), "pg_restore --list");
            await using (var conn = new NpgsqlConnection(server.ConnectionString))
            {
                await conn.OpenAsync(ct);
                await using var create = new NpgsqlCommand($"CREATE DATABASE {LocalPostgresCluster.QuoteIdent(name)}", conn);
                await create.ExecuteNonQueryAsync(ct);
                created = true;
            }

            var into = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name, Pooling = false };
            DumpCases.EnsureSucceeded(await runner.RunAsync(new PgToolInvocation("pg_restore",
                ["--no-owner", "--no-privileges", "--exit-on-error", "--no-password", $"--jobs={jobs}", "--dbname", name, archive]) { Connection = into }, ct), "pg_restore");
            IReadOnlyList<TableRowCount> counts;
            await using (var conn = new NpgsqlConnection(into.ConnectionString))
            {
                await conn.OpenAsync(ct);
                counts = await DatabaseInspector.CountRowsAsync(conn, ct);
            }

            var expected = manifest.Tables.ToDictionary(t => (t.Schema, t.Table), t => t.Rows);
            var mismatch = counts.FirstOrDefault(c => expected.GetValueOrDefault((c.Schema, c.Table), -1) != c.Rows);
            if (mismatch is not null || counts.Count != expected.Count)
            {
                throw new InvalidOperationException($"The restored copy of {Path.GetFileName(backupPath)} does not hold the manifest's row counts; the benchmark's figures are not valid.");
            }
        }
        finally
        {
            if (created)
            {
                await using var conn = new NpgsqlConnection(server.ConnectionString);
                await conn.OpenAsync(CancellationToken.None);
                await using var drop = new NpgsqlCommand($"DROP DATABASE {LocalPostgresCluster.QuoteIdent(name)} WITH (FORCE)", conn);
                await drop.ExecuteNonQueryAsync(CancellationToken.None);
            }

            if (decompressed is not null)
            {
                File.Delete(decompressed);
            }
        }

        var (wall, self, children) = clock.Stop();
        return new RunSample(wall, self + children, ToolPeakRssBytes: sampler.PeakOf("pg_restore"));
    }
}
