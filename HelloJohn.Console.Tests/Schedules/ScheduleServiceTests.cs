using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Schedules;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Tests.Retention;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HelloJohn.Console.Tests.Schedules;

/// <summary>Against real Hangfire storage in PostgreSQL: what the service saves is what Hangfire will run.</summary>
[Trait("Capability", "Schedules")]
[Collection(HelloJohn.Console.Tests.Infrastructure.PostgresCollection.Name)] // not beside console hosts: see SilentHangfireLogProvider
public class ScheduleServiceTests : IClassFixture<CatalogDatabaseFixture>
{
    private readonly CatalogDatabaseFixture _catalog;

    public ScheduleServiceTests(CatalogDatabaseFixture catalog)
    {
        _catalog = catalog;
        HelloJohn.Console.Tests.Infrastructure.SilentHangfireLogProvider.Install();
    }

    private static readonly Actor Admin = new(HelloJohn.Console.Tests.Infrastructure.TestAccounts.AdminId, "admin@example.com", [ConsoleRoles.Admin]);

    [Fact]
    public async Task EnsureDefaultsAsync_NewTarget_RegistersBackupVerifyAndRetentionWithStableIds()
    {
        var (service, storage, targetId) = await ArrangeAsync();

        var views = await service.EnsureDefaultsAsync(Admin, targetId, CancellationToken.None);

        Assert.Equal([ScheduleKind.Backup, ScheduleKind.Verification, ScheduleKind.Retention, ScheduleKind.Drill], views.Select(v => v.Kind));
        var jobs = RecurringJobsOf(storage, targetId);
        Assert.Equal("0 2 * * *", jobs[$"backup:{targetId}"].Cron);
        Assert.Equal("Europe/Berlin", jobs[$"backup:{targetId}"].TimeZoneId);
        Assert.Equal(typeof(IScheduledBackupJob), jobs[$"backup:{targetId}"].Job.Type);
        Assert.Equal(typeof(IScheduledVerificationJob), jobs[$"verify:{targetId}"].Job.Type);
        Assert.Equal(targetId, jobs[$"retention:{targetId}"].Job.Args[0]);
        Assert.Equal((typeof(RecoveryJob), nameof(RecoveryJob.RunScheduledDrillAsync)), (jobs[$"drill:{targetId}"].Job.Type, jobs[$"drill:{targetId}"].Job.Method.Name));
        Assert.Equal("0 5 1 * *", jobs[$"drill:{targetId}"].Cron);
        Assert.Equal(5, views[0].Next.Count);
    }

    [Fact]
    public async Task UpdateAsync_InvalidCron_IsRefusedAndChangesNothing()
    {
        var (service, storage, targetId) = await ArrangeAsync();
        await service.EnsureDefaultsAsync(Admin, targetId, CancellationToken.None);

        var e = await Assert.ThrowsAsync<ScheduleChangeRejectedException>(() =>
            service.UpdateAsync(Admin, $"backup:{targetId}", "0 2 * *", "Europe/Berlin", CancellationToken.None));

        Assert.StartsWith("The schedule was not changed: '0 2 * *' has 4 fields", e.Message);
        Assert.Equal("0 2 * * *", (await service.ListAsync(targetId, CancellationToken.None)).Single(v => v.Kind == ScheduleKind.Backup).Cron);
        Assert.Equal("0 2 * * *", RecurringJobsOf(storage, targetId)[$"backup:{targetId}"].Cron);
        await using var db = await _catalog.Factory.CreateDbContextAsync();
        Assert.Equal(AuditOutcome.Failed, (await db.AuditEvents.Where(a => a.Target == $"backup:{targetId}").OrderBy(a => a.Id).LastAsync()).Outcome);
    }

    [Fact]
    public async Task UpdateAsync_UnknownTimeZone_IsRefusedAndChangesNothing()
    {
        var (service, storage, targetId) = await ArrangeAsync();
        await service.EnsureDefaultsAsync(Admin, targetId, CancellationToken.None);

        var e = await Assert.ThrowsAsync<ScheduleChangeRejectedException>(() =>
            service.UpdateAsync(Admin, $"backup:{targetId}", "0 3 * * *", "Berlin", CancellationToken.None));

        Assert.Contains("'Berlin' is not a known time zone", e.Message);
        Assert.Equal("0 2 * * *", RecurringJobsOf(storage, targetId)[$"backup:{targetId}"].Cron);
    }

    [Fact]
    public async Task UpdateAsync_ValidCron_SavesRegistersAndAudits()
    {
        var (service, storage, targetId) = await ArrangeAsync();
        await service.EnsureDefaultsAsync(Admin, targetId, CancellationToken.None);

        var view = await service.UpdateAsync(Admin, $"backup:{targetId}", " 30 1 * * * ", "America/New_York", CancellationToken.None);

        Assert.Equal(("30 1 * * *", "America/New_York"), (view.Cron, view.TimeZone));
        var job = RecurringJobsOf(storage, targetId)[$"backup:{targetId}"];
        Assert.Equal(("30 1 * * *", "America/New_York"), (job.Cron, job.TimeZoneId));
        await using var db = await _catalog.Factory.CreateDbContextAsync();
        var audit = await db.AuditEvents.Where(a => a.Target == $"backup:{targetId}").OrderBy(a => a.Id).LastAsync();
        Assert.Equal((AuditOutcome.Succeeded, "admin@example.com"), (audit.Outcome, audit.Actor));
        Assert.Contains("'0 2 * * *' (Europe/Berlin) → '30 1 * * *' (America/New_York)", audit.Detail);
    }

    [Fact]
    public async Task PauseAsync_ThenResumeAsync_RemovesAndRestoresTheRecurringJob()
    {
        var (service, storage, targetId) = await ArrangeAsync();
        await service.EnsureDefaultsAsync(Admin, targetId, CancellationToken.None);

        var paused = await service.PauseAsync(Admin, $"verify:{targetId}", CancellationToken.None);

        Assert.True(paused.Paused);
        Assert.Empty(paused.Next);
        Assert.False(RecurringJobsOf(storage, targetId).ContainsKey($"verify:{targetId}"));
        await service.SyncAllAsync(CancellationToken.None);
        Assert.False(RecurringJobsOf(storage, targetId).ContainsKey($"verify:{targetId}"));

        await service.ResumeAsync(Admin, $"verify:{targetId}", CancellationToken.None);

        Assert.Equal("0 4 * * 0", RecurringJobsOf(storage, targetId)[$"verify:{targetId}"].Cron);
    }

    [Fact]
    public async Task UpdateAsync_OperatorActor_IsDenied()
    {
        var (service, _, targetId) = await ArrangeAsync();
        await service.EnsureDefaultsAsync(Admin, targetId, CancellationToken.None);

        await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            service.UpdateAsync(new Actor(HelloJohn.Console.Tests.Infrastructure.TestAccounts.OperatorId, "op@example.com", [ConsoleRoles.Operator]), $"backup:{targetId}", "0 3 * * *", "Etc/UTC", CancellationToken.None));
    }

    [Fact]
    public async Task RunNowAsync_PausedSchedule_StillEnqueuesItsJob()
    {
        var (service, storage, targetId) = await ArrangeAsync();
        await service.EnsureDefaultsAsync(Admin, targetId, CancellationToken.None);
        await service.PauseAsync(Admin, $"retention:{targetId}", CancellationToken.None);

        var jobId = await service.RunNowAsync(Admin, $"retention:{targetId}", CancellationToken.None);

        using var connection = storage.GetConnection();
        var data = connection.GetJobData(jobId);
        Assert.Equal("Enqueued", data.State);
        Assert.Equal(targetId, data.Job.Args[0]);
    }

    private static Dictionary<string, RecurringJobDto> RecurringJobsOf(JobStorage storage, Guid targetId)
    {
        using var connection = storage.GetConnection();
        return connection.GetRecurringJobs().Where(j => j.Id.EndsWith(targetId.ToString(), StringComparison.Ordinal)).ToDictionary(j => j.Id);
    }

    private async Task<(ScheduleService Service, JobStorage Storage, Guid TargetId)> ArrangeAsync()
    {
        var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(_catalog.ConnectionString, options), options);
        var targetId = Guid.NewGuid();
        await using (var db = await _catalog.Factory.CreateDbContextAsync())
        {
            db.Targets.Add(new BackupTarget { Id = targetId, Name = "s-" + targetId.ToString("N")[..8], CreatedAt = DateTimeOffset.UnixEpoch });
            await db.SaveChangesAsync();
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 28, 12, 0, 0, TimeSpan.Zero));
        var service = new ScheduleService(
            _catalog.Factory,
            new RecurringJobManager(storage),
            new BackgroundJobClient(storage),
            new AuditLog(_catalog.Factory, time),
            new CallerGate(_catalog.Factory, new AuditLog(_catalog.Factory, time), time),
            Options.Create(new ScheduleOptions { TimeZone = "Europe/Berlin" }),
            time,
            NullLogger<ScheduleService>.Instance);
        return (service, storage, targetId);
    }
}
