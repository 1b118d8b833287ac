using HelloJohn.Console.Bench.Measurement;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Dashboard;
using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;

namespace HelloJohn.Console.Bench.Cases;

/// <summary>A catalog the size of years of backups, and the time the pages' service calls take on it.</summary>
public static class CatalogCases
{
    /// <summary>Adds <paramref name="count"/> backup records of <paramref name="targetId"/>, one every 30 minutes back from
    /// now: the last two weeks succeeded, older ones expired by retention, 5% failed and 1% cancelled throughout. Column
    /// names come from the EF model, so the seed follows the schema.</summary>
    public static async Task SeedBackupsAsync(IDbContextFactory<ConsoleDbContext> dbFactory, NpgsqlConnectionStringBuilder consoleDb, Guid targetId, int count, CancellationToken ct)
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
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(Guid.NewGuid(), ct);
                await writer.WriteAsync(targetId, ct);
                await writer.WriteAsync(BackupNaming.FileNameFor(created), ct);
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
    }

    /// <summary>Calls the Backups page's first-page query <paramref name="reps"/> times after a warm-up.</summary>
    public static Task<IReadOnlyList<RunSample>> TimeBackupsPageAsync(BackupService backups, int reps, CancellationToken ct) =>
        TimeAsync(async () =>
        {
            var page = await backups.QueryAsync(new BackupQuery(), ct);
            if (page.Items.Count == 0 || page.TotalCount == 0)
            {
                throw new InvalidOperationException("The Backups page query returned nothing from a seeded catalog; the figure would be meaningless.");
            }
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
