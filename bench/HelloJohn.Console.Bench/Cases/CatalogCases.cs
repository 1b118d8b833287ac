using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Dashboard;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Verification;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

public sealed record SeededBackup(Guid Id, string FileName, DateTimeOffset CreatedAt, BackupStatus Status);

/// <summary>A catalog the size of years of backups, and the time the pages' service calls take on it.</summary>
public static class CatalogCases
{
    /// <summary>Adds <paramref name="count"/> backup records of <paramref name="targetId"/>, one every 30 minutes back from
    /// now: the last two weeks succeeded, older ones expired by retention, 5% failed and 1% cancelled throughout. Column
    /// names come from the EF model, so the seed follows the schema.</summary>
    public static async Task<IReadOnlyList<SeededBackup>> SeedBackupsAsync(IDbContextFactory<ConsoleDbContext> dbFactory, NpgsqlConnectionStringBuilder consoleDb, Guid targetId, int count, CancellationToken ct)
    {
        string table;
        string[] columns;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var entity = db.Model.FindEntityType(typeof(BackupRecord))!;
            var store = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            table = Quote(entity.GetTableName()!);
            columns =
            [
                .. new[]
                {
                    nameof(BackupRecord.Id), nameof(BackupRecord.TargetId), nameof(BackupRecord.FileName), nameof(BackupRecord.Status),
                    nameof(BackupRecord.Trigger), nameof(BackupRecord.RequestedBy), nameof(BackupRecord.CreatedAt), nameof(BackupRecord.StartedAt),
                    nameof(BackupRecord.FinishedAt), nameof(BackupRecord.BytesWritten), nameof(BackupRecord.SizeBytes), nameof(BackupRecord.Sha256),
                    nameof(BackupRecord.Error), nameof(BackupRecord.Format), nameof(BackupRecord.Compression), nameof(BackupRecord.Tier), nameof(BackupRecord.Pinned),
                }.Select(p => Quote(entity.FindProperty(p)!.GetColumnName(store)!)),
            ];
        }

        await using var conn = new NpgsqlConnection(consoleDb.ConnectionString);
        await conn.OpenAsync(ct);
        // The newest record starts an hour before now, so the live backups of the run stay on top of the first page.
        var newest = DateTimeOffset.UtcNow.AddHours(-1);
        var random = new Random(8);
        var sha = new byte[32];
        var seeded = new List<SeededBackup>(count);
        await using (var writer = await conn.BeginBinaryImportAsync($"COPY {table} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var i = 0; i < count; i++)
            {
                var created = newest.AddMinutes(-30 * i);
                var roll = random.Next(100);
                // Retention keeps about two weeks of files; everything older was expired, so its record stays for history.
                var kept = created > newest.AddDays(-14);
                var status = i == 0 ? BackupStatus.Succeeded : roll switch
                {
                    < 5 => BackupStatus.Failed,
                    < 6 => BackupStatus.Cancelled,
                    _ => kept ? BackupStatus.Succeeded : BackupStatus.Expired,
                };
                var finished = status == BackupStatus.Succeeded || status == BackupStatus.Expired;
                var size = 150_000_000L + random.Next(60_000_000);
                random.NextBytes(sha);
                var id = Guid.NewGuid();
                var fileName = BackupNaming.FileNameFor(created, extension: BackupCompression.Default.FileExtension);
                seeded.Add(new SeededBackup(id, fileName, created, status));
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(id, ct);
                await writer.WriteAsync(targetId, ct);
                await writer.WriteAsync(fileName, ct);
                await writer.WriteAsync(status.ToString(), ct);
                await writer.WriteAsync((i % 48 == 0 ? BackupTrigger.Manual : BackupTrigger.Scheduled).ToString(), ct);
                await writer.WriteAsync(i % 48 == 0 ? "operator@example.test" : "system", ct);
                await writer.WriteAsync(created, ct);
                await writer.WriteAsync(created.AddSeconds(1), ct);
                await writer.WriteAsync(created.AddSeconds(5 + random.Next(20)), ct);
                await writer.WriteAsync(finished ? size : 0, ct);
                await WriteNullableAsync<long?>(writer, finished ? size : null, ct);
                await WriteNullableAsync<string>(writer, finished ? Convert.ToHexStringLower(sha) : null, ct);
                await WriteNullableAsync<string>(writer, status == BackupStatus.Failed ? "pg_dump failed on hellojohn@db:5432/hellojohn: connection to server was lost. Nothing was kept." : null, ct);
                await writer.WriteAsync("custom", ct);
                await writer.WriteAsync(BackupCompression.Default.ToString(), ct);
                await writer.WriteAsync("daily", ct);
                await writer.WriteAsync(false, ct);
            }

            await writer.CompleteAsync(ct);
        }

        await using var analyze = new NpgsqlCommand($"ANALYZE {table}", conn);
        await analyze.ExecuteNonQueryAsync(ct);
        return seeded;
    }

    /// <summary>A table's quoted name and the quoted column names of <paramref name="properties"/>, from the EF model.</summary>
    private static (string Table, string[] Columns) ColumnsOf(ConsoleDbContext db, Type entityType, params string[] properties)
    {
        var entity = db.Model.FindEntityType(entityType)!;
        var store = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        return (Quote(entity.GetTableName()!), [.. properties.Select(p => Quote(entity.FindProperty(p)!.GetColumnName(store)!))]);
    }

    /// <summary>Adds <paramref name="count"/> verification runs, spread evenly over the finished seeded backups (the
    /// newest included), 95% passed, 5% failed.</summary>
    public static async Task SeedVerificationRunsAsync(IDbContextFactory<ConsoleDbContext> dbFactory, NpgsqlConnectionStringBuilder consoleDb, Guid targetId,
        IReadOnlyList<SeededBackup> backups, int count, CancellationToken ct)
    {
        var finished = backups.Where(b => b.Status is BackupStatus.Succeeded or BackupStatus.Expired).ToList();
        if (finished.Count == 0 || count == 0)
        {
            return;
        }

        string runs, verifications;
        string[] runColumns, verificationColumns;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            (runs, runColumns) = ColumnsOf(db, typeof(RunRecord),
                nameof(RunRecord.Id), nameof(RunRecord.Kind), nameof(RunRecord.TargetId), nameof(RunRecord.Status), nameof(RunRecord.Phase),
                nameof(RunRecord.RequestedBy), nameof(RunRecord.CreatedAt), nameof(RunRecord.StartedAt), nameof(RunRecord.FinishedAt), nameof(RunRecord.Error),
                nameof(RunRecord.ProgressDone));
            (verifications, verificationColumns) = ColumnsOf(db, typeof(VerificationRun),
                nameof(VerificationRun.Id), nameof(VerificationRun.BackupId), nameof(VerificationRun.BackupFileName), nameof(VerificationRun.DatabaseName),
                nameof(VerificationRun.Trigger), nameof(VerificationRun.Jobs), nameof(VerificationRun.RowsCounted), nameof(VerificationRun.DatabaseDropped));
        }

        var random = new Random(10);
        var seeded = Enumerable.Range(0, count).Select(i =>
        {
            var backup = finished[(int)((long)i * finished.Count / count)];
            var passed = i == 0 || random.Next(100) >= 5;
            var started = backup.CreatedAt.AddHours(1);
            return (Id: Guid.NewGuid(), Backup: backup, Passed: passed, Started: started, Finished: started.AddSeconds(20 + random.Next(10)));
        }).ToList();

        await using var conn = new NpgsqlConnection(consoleDb.ConnectionString);
        await conn.OpenAsync(ct);
        // Each verification is a run (its lifecycle) and its own record, under one id.
        await using (var writer = await conn.BeginBinaryImportAsync($"COPY {runs} ({string.Join(", ", runColumns)}) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var v in seeded)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(v.Id, ct);
                await writer.WriteAsync(RunKind.Verification.ToString(), ct);
                await writer.WriteAsync(targetId, ct);
                await writer.WriteAsync((v.Passed ? RunStatus.Succeeded : RunStatus.Failed).ToString(), ct);
                await writer.WriteAsync(RestorePhase.Done.ToString(), ct);
                await writer.WriteAsync("system", ct);
                await writer.WriteAsync(v.Started, ct);
                await writer.WriteAsync(v.Started, ct);
                await writer.WriteAsync(v.Finished, ct);
                await WriteNullableAsync<string>(writer, v.Passed ? null : "hellojohn_x.dump restored, but its row counts differ from the manifest: hj_session 3,000,000 expected, 2,999,998 found.", ct);
                await writer.WriteAsync(0L, ct);
            }

            await writer.CompleteAsync(ct);
        }

        await using (var writer = await conn.BeginBinaryImportAsync($"COPY {verifications} ({string.Join(", ", verificationColumns)}) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var v in seeded)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(v.Id, ct);
                await writer.WriteAsync(v.Backup.Id, ct);
                await writer.WriteAsync(v.Backup.FileName, ct);
                await writer.WriteAsync($"hellojohn_verify_{v.Started.ToUnixTimeSeconds()}", ct);
                await writer.WriteAsync(VerificationTrigger.Scheduled.ToString(), ct);
                await writer.WriteAsync(2, ct);
                await writer.WriteAsync(5_250_000L, ct);
                await writer.WriteAsync(true, ct);
            }

            await writer.CompleteAsync(ct);
        }

        await using var analyze = new NpgsqlCommand($"ANALYZE {runs}; ANALYZE {verifications}", conn);
        await analyze.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The Backups page's first page, as its grid loads it: the page of records, then the verification badges
    /// of those records. Called <paramref name="reps"/> times after a warm-up.</summary>
    public static Task<IReadOnlyList<RunSample>> TimeBackupsPageAsync(BackupService backups, VerificationService verifications, int reps, CancellationToken ct) =>
        TimeAsync(async () =>
        {
            var page = await backups.QueryAsync(new BackupQuery(), ct);
            if (page.Items.Count == 0 || page.TotalCount == 0)
            {
                throw new InvalidOperationException("The Backups page query returned nothing from a seeded catalog; the figure would be meaningless.");
            }

            await verifications.LatestForBackupsAsync([.. page.Items.Select(i => i.Id)], ct);
        }, reps);

    public static Task<IReadOnlyList<RunSample>> TimeDashboardAsync(DashboardService dashboard, int reps, CancellationToken ct) =>
        TimeAsync(async () =>
        {
            var summary = await dashboard.GetAsync(ct);
            if (summary.SucceededCount == 0)
            {
                throw new InvalidOperationException("The Dashboard counted no succeeded backup in a seeded catalog; the figure would be meaningless.");
            }
        }, reps);

    private static async Task<IReadOnlyList<RunSample>> TimeAsync(Func<Task> call, int reps)
    {
        for (var i = 0; i < 3; i++)
        {
            await call();
        }

        var samples = new List<RunSample>(reps);
        for (var i = 0; i < reps; i++)
        {
            var clock = RunClock.Start();
            await call();
            var (wall, self, _) = clock.Stop();
            samples.Add(new RunSample(wall, self));
        }

        return samples;
    }

    private static async Task WriteNullableAsync<T>(NpgsqlBinaryImporter writer, T? value, CancellationToken ct)
    {
        if (value is null)
        {
            await writer.WriteNullAsync(ct);
        }
        else
        {
            await writer.WriteAsync(value, ct);
        }
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
