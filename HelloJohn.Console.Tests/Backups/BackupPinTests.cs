using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HelloJohn.Console.Tests.Backups;

/// <summary>Pinning on the real console: who may, what can be pinned, and that retention then keeps the backup.</summary>
[Trait("Capability", "Retention")]
[Collection(PostgresCollection.Name)]
public sealed class BackupPinTests(PostgresClusterFixture postgres) : IAsyncLifetime
{
    private static readonly Actor Admin = new("admin-1", "admin@example.test", [ConsoleRoles.Admin]);
    private static readonly Actor Operator = new("op-1", "operator@example.test", [ConsoleRoles.Operator]);
    private readonly ConsoleAppFactory _app = new(postgres);

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    private async Task<(Guid TargetId, Guid BackupId)> InsertAsync(BackupStatus status)
    {
        var targetId = (await _app.Service<TargetService>().GetDefaultAsync(CancellationToken.None))!.Id;
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var at = new DateTimeOffset(2025, 1, 1, 2, 0, 0, TimeSpan.Zero);
        var record = new BackupRecord
        {
            Id = Guid.NewGuid(),
            TargetId = targetId,
            FileName = BackupNaming.FileNameFor(at, Guid.NewGuid().ToString("N")[..6]),
            Status = status,
            CreatedAt = at,
            StartedAt = at,
            FinishedAt = at.AddSeconds(5),
            SizeBytes = status == BackupStatus.Succeeded ? 100 : null,
            Sha256 = status == BackupStatus.Succeeded ? new string('0', 64) : null,
        };
        db.Backups.Add(record);
        await db.SaveChangesAsync();
        return (targetId, record.Id);
    }

    private async Task<(bool Pinned, List<AuditEvent> Audit)> StateAsync(Guid backupId)
    {
        await using var db = await _app.Service<IDbContextFactory<ConsoleDbContext>>().CreateDbContextAsync();
        var pinned = await db.Backups.Where(b => b.Id == backupId).Select(b => b.Pinned).SingleAsync();
        var audit = await db.AuditEvents.Where(e => e.Action == AuditActions.BackupPinned).OrderBy(e => e.Id).ToListAsync();
        return (pinned, audit);
    }

    [Fact]
    public async Task PinAsync_AsAdmin_PinsAuditsAndRetentionKeepsItAsPinned()
    {
        var (targetId, id) = await InsertAsync(BackupStatus.Succeeded);

        await _app.Service<BackupService>().PinAsync(Admin, id, true, CancellationToken.None);

        var (pinned, audit) = await StateAsync(id);
        Assert.True(pinned);
        var e = Assert.Single(audit);
        Assert.Equal((AuditOutcome.Succeeded, "admin@example.test"), (e.Outcome, e.Actor));
        Assert.StartsWith("Pinned", e.Detail);
        using var scope = _app.Services.CreateScope();
        var plan = await scope.ServiceProvider.GetRequiredService<RetentionService>().PreviewAsync(targetId, CancellationToken.None);
        Assert.True(plan.For(id).Reasons.HasFlag(RetentionReasons.Pinned));
        Assert.Equal(RetentionVerdict.Keep, plan.For(id).Verdict);

        await _app.Service<BackupService>().PinAsync(Admin, id, false, CancellationToken.None);

        Assert.False((await StateAsync(id)).Pinned);
    }

    [Fact]
    public async Task PinAsync_AsOperator_IsRefusedAuditedAndChangesNothing()
    {
        var (_, id) = await InsertAsync(BackupStatus.Succeeded);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => _app.Service<BackupService>().PinAsync(Operator, id, true, CancellationToken.None));

        var (pinned, audit) = await StateAsync(id);
        Assert.False(pinned);
        Assert.Equal(AuditOutcome.Denied, Assert.Single(audit).Outcome);
    }

    [Fact]
    public async Task PinAsync_FailedRun_IsRefusedWithTheReason()
    {
        var (_, id) = await InsertAsync(BackupStatus.Failed);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _app.Service<BackupService>().PinAsync(Admin, id, true, CancellationToken.None));

        Assert.Contains("is failed, so it has no file to keep", e.Message);
        Assert.False((await StateAsync(id)).Pinned);
    }

    [Fact]
    public async Task PinAsync_UnknownBackup_SaysItIsNotThere()
    {
        await InsertAsync(BackupStatus.Succeeded);

        var e = await Assert.ThrowsAsync<KeyNotFoundException>(() => _app.Service<BackupService>().PinAsync(Admin, Guid.NewGuid(), true, CancellationToken.None));

        Assert.Contains("Nothing was changed", e.Message);
    }
}
