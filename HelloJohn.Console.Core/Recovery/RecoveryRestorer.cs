using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HelloJohn.Console.Core.Recovery;

/// <summary>Restores a run's chosen backup (or, for a set's member, every kept database of its set: see
/// <see cref="RecoveryParts"/>) into its new database, which may be on another server than the target's (so not
/// through <see cref="RestoreService"/>, which restores on the target's own server), with the same
/// <see cref="RestoreEngine"/>: until a file's proof passes (manifest, size and SHA-256, <c>pg_restore --list</c>),
/// nothing is written. The counts are compared by the wizard's next step.</summary>
public sealed class RecoveryRestorer(RestoreEngine engine, RecoveryParts parts, IOptionsMonitor<RecoveryOptions> options)
{
    public async Task RestoreAsync(RecoveryStepContext ctx, CancellationToken ct)
    {
        var all = await parts.OfAsync(ctx, ct);
        if (all.Count > 1)
        {
            await ctx.LogAsync($"{ctx.Run.BackupFileName} is one of a set: its {all.Count} databases are restored, the others beside {all[0].Into.Database}: " +
                string.Join(", ", all.Skip(1).Select(p => $"{p.Database} → {p.Into.Database}")) + ".");
            foreach (var other in all.Where(p => !p.Main))
            {
                // A database beside the chosen one is only ever created or restored into empty, unless the engineer confirmed.
                if (!ctx.Run.NonEmptyConfirmed && !ctx.Run.RestoreWritten && await RecoveryParts.HoldsTablesAsync(other.Into, ct))
                {
                    throw new RecoveryStepFailedException($"{other.Into.Database} already holds tables on {other.Into.Host}:{other.Into.Port}. Nothing was restored. " +
                        "Restore the set on a new server, or drop that database first.");
                }
            }
        }

        foreach (var part in all)
        {
            await RestoreOneAsync(ctx, part, all.Count, ct);
        }
    }

    private async Task RestoreOneAsync(RecoveryStepContext ctx, RecoveryPart part, int count, CancellationToken ct)
    {
        var run = ctx.Run;
        var backupId = part.BackupId;
        var into = new NpgsqlConnectionStringBuilder(part.Into.ConnectionString) { Pooling = false };
        // Over existing tables (confirmed) or after an earlier attempt wrote: drop what the dump holds first.
        var clean = run.NonEmptyConfirmed || run.RestoreWritten;
        var jobs = options.CurrentValue.RestoreJobs;
        var logged = new List<Task>();
        await ctx.LogAsync($"Checking {part.FileName} against its manifest (size, SHA-256) and with pg_restore --list.");
        await using var session = new RestoreSession { Database = into.Database! };
        try
        {
            await engine.RunAsync(new RestoreSpec(backupId, into.Unpooled("postgres"), into.Database!, clean ? ArchiveRestoreStyle.InPlace : ArchiveRestoreStyle.NewDatabase, jobs)
            {
                Creation = run.CreateNewDatabase || !part.Main ? DatabaseCreation.IfMissing : DatabaseCreation.Existing,
                Count = false,
            }, session, new RestoreEvents
            {
                BeforeWriting = (archive, _) => ctx.LogAsync($"{archive.Manifest.FileName} in the '{archive.Store}' store: {archive.Manifest.SizeBytes:N0} bytes, " +
                    $"SHA-256 {archive.Manifest.Sha256[..12]}… matches the manifest; pg_restore --list reads it ({archive.TableDataEntries} tables of data)."),
                Phase = async phase =>
                {
                    if (phase == RestorePhase.Restoring && part.Main)
                    {
                        run.RestoreWritten = true;
                    }

                    if (phase == RestorePhase.Restoring)
                    {
                        if (session.CreatedDatabase)
                        {
                            await ctx.LogAsync($"Created the database {into.Database} on {into.Host}:{into.Port}.");
                        }

                        await ctx.LogAsync($"pg_restore into {into.Describe()}{(clean ? ", dropping the backup's objects first" : "")}, {jobs} job(s).");
                    }
                },
                TableLoaded = (loaded, total, table) =>
                {
                    if (count == 1)
                    {
                        ctx.ReportProgress(loaded, total);
                    }

                    lock (logged)
                    {
                        logged.Add(ctx.LogAsync($"Loaded {loaded}/{total}: {table}"));
                    }
                },
            }, ct);
        }
        catch (ArchiveCheckFailedException e)
        {
            throw new RecoveryStepFailedException($"{e.Message} Nothing was restored; {into.Database} was not touched. Choose another backup, or copy this one again from another store.", e);
        }
        catch (PgRestoreFailedException e)
        {
            throw new RecoveryStepFailedException($"pg_restore failed: {e.Error}. {into.Database} on {into.Host}:{into.Port} may be partly restored; " +
                "running the restore again drops the backup's objects first and restores them again.", e);
        }
        finally
        {
            Task[] pending;
            lock (logged)
            {
                pending = [.. logged];
            }

            await Task.WhenAll(pending);
        }

        await ctx.LogAsync($"pg_restore of {part.FileName} finished in {RecoveryDurations.Describe(session.RestoreDuration)}.");
    }
}
