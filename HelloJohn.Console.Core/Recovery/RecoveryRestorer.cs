using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Restores a run's chosen backup into its new database, which may be on another server than the target's
/// (so it does not go through <see cref="RestoreService"/>, which restores on the target's own server). It shares the
/// restore feature's proof of the file (<see cref="BackupArchiveChecker"/>: manifest, size and SHA-256,
/// <c>pg_restore --list</c>) and its pg_restore call; until the proof passes, nothing is written.</summary>
public sealed class RecoveryRestorer(BackupArchiveChecker checker, IPgToolRunner pgTools, IOptionsMonitor<RecoveryOptions> options)
{
    public async Task RestoreAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var run = ctx.Run;
        if (run.BackupId is not { } backupId)
        {
            throw new RecoveryStepFailedException("No backup is chosen for this run. Nothing was restored.");
        }

        var into = new NpgsqlConnectionStringBuilder(ctx.NewConnection().ConnectionString) { Pooling = false };
        await ctx.LogAsync($"Checking {run.BackupFileName} against its manifest (size, SHA-256) and with pg_restore --list.");
        CheckedArchive archive;
        try
        {
            archive = await checker.CheckAsync(backupId, ct);
        }
        catch (ArchiveCheckFailedException e)
        {
            throw new RecoveryStepFailedException($"{e.Message} Nothing was restored; {into.Database} was not touched. Choose another backup, or copy this one again from another store.", e);
        }

        await using (archive)
        {
            await ctx.LogAsync($"{archive.Manifest.FileName} in the '{archive.Store}' store: {archive.Manifest.SizeBytes:N0} bytes, SHA-256 {archive.Manifest.Sha256[..12]}… matches the manifest; " +
                $"pg_restore --list reads it ({archive.TableDataEntries} tables of data).");
            if (run.CreateNewDatabase)
            {
                await CreateDatabaseAsync(ctx, into, ct);
            }

            // Over existing tables (confirmed) or after an earlier attempt wrote: drop what the dump holds first.
            var clean = run.NonEmptyConfirmed || run.RestoreWritten;
            var jobs = options.CurrentValue.RestoreJobs;
            await ctx.LogAsync($"pg_restore into {into.Describe()}{(clean ? ", dropping the backup's objects first" : "")}, {jobs} job(s).");
            run.RestoreWritten = true;
            var loaded = 0;
            var pending = new List<Task>();
            var result = await ArchiveRestore.RunAsync(pgTools, into, archive, clean ? ArchiveRestoreStyle.InPlace : ArchiveRestoreStyle.NewDatabase, jobs,
                singleTransaction: false,
                table =>
                {
                    var n = Interlocked.Increment(ref loaded);
                    lock (pending)
                    {
                        pending.Add(ctx.LogAsync($"Loaded {n}/{archive.TableDataEntries}: {table}"));
                    }
                },
                ct);
            Task[] logged;
            lock (pending)
            {
                logged = [.. pending];
            }

            await Task.WhenAll(logged);
            if (!result.Succeeded)
            {
                throw new RecoveryStepFailedException($"pg_restore failed: {result.ErrorSummary}. {into.Database} on {into.Host}:{into.Port} may be partly restored; " +
                    "running the restore again drops the backup's objects first and restores them again.");
            }

            await ctx.LogAsync($"pg_restore finished in {RecoveryDurations.Describe(result.Duration)}.");
        }
    }

    private static async Task CreateDatabaseAsync(RecoveryStepContext ctx, NpgsqlConnectionStringBuilder into, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(into.Unpooled("postgres").ConnectionString);
        await conn.OpenAsync(ct);
        if (await ServerDatabases.ExistsAsync(conn, into.Database!, ct))
        {
            return;
        }

        await ServerDatabases.CreateAsync(conn, into.Database!, ct);
        await ctx.LogAsync($"Created the database {into.Database} on {into.Host}:{into.Port}.");
    }
}
