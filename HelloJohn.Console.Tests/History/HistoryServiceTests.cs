using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.History;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Tests.History;

[Trait("Capability", "Backups")]
[Collection(PostgresCollection.Name)]
public sealed class HistoryServiceTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private readonly ConsoleAppFactory _app = new(postgres);

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Backups_InWindow_GivesMeasuredPointsInOrderWithMedianAndCounts()
    {
        var target = (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
        var now = DateTimeOffset.UtcNow;
        await using (var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync())
        {
            void Add(int daysAgo, BackupStatus status, long? size, double seconds, long rows = 0)
            {
                var id = Guid.NewGuid();
                var started = now.AddDays(-daysAgo);
                db.Backups.Add(new BackupRecord
                {
                    Id = id, TargetId = target, FileName = BackupNaming.FileNameFor(started), Status = status, CreatedAt = started,
                    StartedAt = started, FinishedAt = started.AddSeconds(seconds), SizeBytes = size,
                    TableCounts = rows == 0 ? [] : [new BackupTableCount { BackupId = id, Schema = "public", Table = "hj_user", Rows = rows }],
                });
            }

            Add(40, BackupStatus.Succeeded, 1000, 1); // outside a 30-day window
            Add(3, BackupStatus.Succeeded, 2000, 10, rows: 7);
            Add(2, BackupStatus.Failed, null, 2);
            Add(1, BackupStatus.Succeeded, 3000, 30);
            Add(0, BackupStatus.Succeeded, 4000, 20);
            await db.SaveChangesAsync();
        }

        var history = await _app.Service<HistoryService>().BackupsAsync(target, TimeSpan.FromDays(30), CancellationToken.None);

        Assert.Equal(4, history.Points.Count);
        Assert.True(history.Points.Zip(history.Points.Skip(1)).All(p => p.First.StartedAt < p.Second.StartedAt));
        Assert.Equal((3, 1, 0), (history.Succeeded, history.Failed, history.PartiallyStored));
        Assert.Equal(20, history.MedianDurationSeconds!.Value, 3);
        Assert.Equal(4000, history.LatestSizeBytes);
        Assert.Equal(7, history.Points[0].TotalRows);
    }
}
