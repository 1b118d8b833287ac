using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Recovery;
using HelloJohn.Console.Core.Retention;
using HelloJohn.Console.Core.Security;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Schedules;

/// <summary>A schedule as shown: its settings and its next occurrences in its zone and UTC.</summary>
/// <param name="Warning">For a backup schedule that fires more often than a backup takes: the numbers and what to do.</param>
public sealed record ScheduleView(string Id, ScheduleKind Kind, Guid TargetId, string Cron, string TimeZone, bool Paused, DateTimeOffset UpdatedAt, string? UpdatedBy, IReadOnlyList<CronOccurrence> Next, string? Warning = null);

/// <summary>A cron expression checked before saving: the error for people, or the next occurrences.</summary>
public sealed record CronPreview(string Cron, string TimeZone, string? Error, IReadOnlyList<CronOccurrence> Next)
{
    public bool IsValid => Error is null;
}

/// <summary>Raised when a schedule change is refused; nothing was changed.</summary>
public sealed class ScheduleChangeRejectedException(string message) : Exception(message);

/// <summary>The recurring jobs of every target, with stable ids (<c>backup:&lt;targetId&gt;</c>, <c>verify:…</c>,
/// <c>retention:…</c>, <c>jwks-check:…</c>). This is the one place that registers them with Hangfire; the settings live
/// in the console database, so every instance rebuilds the same jobs.</summary>
public sealed class ScheduleService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    IRecurringJobManager recurringJobs,
    IBackgroundJobClient backgroundJobs,
    IAuditLog audit,
    CallerGate gate,
    IOptions<ScheduleOptions> options,
    TimeProvider time,
    ILogger<ScheduleService> logger)
{
    public static string JobId(ScheduleKind kind, Guid targetId) => kind switch
    {
        ScheduleKind.Backup => $"backup:{targetId}",
        ScheduleKind.Verification => $"verify:{targetId}",
        ScheduleKind.Retention => $"retention:{targetId}",
        ScheduleKind.Drill => $"drill:{targetId}",
        _ => $"jwks-check:{targetId}",
    };

    /// <summary>Checks <paramref name="cron"/> in <paramref name="timeZone"/> and lists its next five occurrences.</summary>
    public CronPreview Preview(string cron, string timeZone)
    {
        if (CronSchedule.FindZone(timeZone) is not { } zone)
        {
            return new CronPreview(cron, timeZone, $"'{timeZone}' is not a known time zone; use an IANA id such as Europe/Berlin or Etc/UTC.", []);
        }

        return CronSchedule.TryParse(cron, out var expression, out var error)
            ? new CronPreview(cron.Trim(), zone.Id, null, CronSchedule.Next(expression, time.GetUtcNow(), zone))
            : new CronPreview(cron, zone.Id, error, []);
    }

    public async Task<IReadOnlyList<ScheduleView>> ListAsync(Guid targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var settings = await db.Set<ScheduleSetting>().AsNoTracking().Where(s => s.TargetId == targetId).ToListAsync(ct);
        var lastBackup = await BackupFrequency.LastDurationAsync(db, targetId, ct);
        return settings.OrderBy(s => s.Kind).Select(s => View(s, withWarning: true, lastBackup)).ToList();
    }

    /// <summary>How long the newest finished backup of the target took, for the editor's frequency warning.</summary>
    public async Task<TimeSpan?> LastBackupDurationAsync(Guid targetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await BackupFrequency.LastDurationAsync(db, targetId, ct);
    }

    /// <summary>The warning for a backup schedule that would start backups more often than one takes; null when fine.</summary>
    public string? BackupFrequencyWarning(string cron, string timeZone, TimeSpan? lastBackupDuration) =>
        BackupFrequency.Warning(cron, timeZone, lastBackupDuration, time.GetUtcNow());

    /// <summary>Creates the default schedules a target lacks (the JWKS check only when it has a HelloJohn URL) and
    /// registers them.</summary>
    public Task<IReadOnlyList<ScheduleView>> EnsureDefaultsAsync(Actor actor, Guid targetId, CancellationToken ct) =>
        EnsureDefaultsAsync(actor, targetId, register: true, ct);

    /// <summary>As above; at start <paramref name="register"/> is false, because <see cref="SyncAllAsync"/> registers every
    /// schedule right after (once each, one log line each).</summary>
    internal async Task<IReadOnlyList<ScheduleView>> EnsureDefaultsAsync(Actor actor, Guid targetId, bool register, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSchedules, AuditActions.ScheduleChanged, $"defaults of target {targetId}", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = await db.Targets.AsNoTracking().SingleOrDefaultAsync(t => t.Id == targetId, ct)
            ?? throw new KeyNotFoundException($"There is no backup target with id {targetId}; no schedule was created.");
        var existing = await db.Set<ScheduleSetting>().Where(s => s.TargetId == targetId).ToListAsync(ct);
        var wanted = Enum.GetValues<ScheduleKind>().Where(k => k != ScheduleKind.JwksCheck || !string.IsNullOrWhiteSpace(target.BaseUrl));
        var added = new List<ScheduleSetting>();
        foreach (var kind in wanted.Where(k => existing.All(s => s.Kind != k)))
        {
            var setting = new ScheduleSetting
            {
                Id = JobId(kind, targetId),
                Kind = kind,
                TargetId = targetId,
                Cron = options.Value.DefaultCron(kind),
                TimeZone = options.Value.Zone().Id,
                UpdatedAt = time.GetUtcNow(),
                UpdatedBy = actor.Name,
            };
            db.Add(setting);
            added.Add(setting);
        }

        await db.SaveChangesAsync(ct);
        foreach (var setting in register ? existing.Concat(added) : [])
        {
            Register(setting);
        }

        foreach (var setting in added)
        {
            await audit.RecordAsync(actor, AuditActions.ScheduleChanged, setting.Id, AuditOutcome.Succeeded,
                $"Created with the default '{setting.Cron}' ({setting.TimeZone}).", ct);
        }

        return existing.Concat(added).OrderBy(s => s.Kind).Select(s => View(s)).ToList();
    }

    /// <summary>Removes every schedule of a target (a deployment an administrator removed) and its recurring jobs.</summary>
    public async Task RemoveAllAsync(Actor actor, Guid targetId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSchedules, AuditActions.ScheduleChanged, $"every schedule of target {targetId}", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var settings = await db.Set<ScheduleSetting>().Where(s => s.TargetId == targetId).ToListAsync(ct);
        db.RemoveRange(settings);
        await db.SaveChangesAsync(ct);
        foreach (var setting in settings)
        {
            recurringJobs.RemoveIfExists(setting.Id);
            await audit.RecordAsync(actor, AuditActions.ScheduleChanged, setting.Id, AuditOutcome.Succeeded, "Removed with its deployment.", ct);
        }
    }

    /// <summary>Re-registers every saved schedule with Hangfire (at start), and removes the recurring jobs of paused ones.</summary>
    public async Task SyncAllAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var setting in await db.Set<ScheduleSetting>().AsNoTracking().ToListAsync(ct))
        {
            Register(setting);
        }
    }

    /// <summary>Changes the cron expression and zone of a schedule. Invalid input throws
    /// <see cref="ScheduleChangeRejectedException"/> and changes nothing.</summary>
    public async Task<ScheduleView> UpdateAsync(Actor actor, string scheduleId, string cron, string timeZone, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSchedules, AuditActions.ScheduleChanged, scheduleId, ct);
        var preview = Preview(cron, timeZone);
        if (!preview.IsValid)
        {
            await audit.RecordAsync(actor, AuditActions.ScheduleChanged, scheduleId, AuditOutcome.Failed, $"Refused '{cron}' ({timeZone}): {preview.Error}", ct);
            throw new ScheduleChangeRejectedException($"The schedule was not changed: {preview.Error}");
        }

        var changed = await ChangeAsync(actor, scheduleId, s =>
        {
            var before = $"'{s.Cron}' ({s.TimeZone})";
            s.Cron = preview.Cron;
            s.TimeZone = preview.TimeZone;
            return $"Cron {before} → '{s.Cron}' ({s.TimeZone}).";
        }, ct);
        if (changed.Kind != ScheduleKind.Backup)
        {
            return changed;
        }

        // Saved as asked, with the warning beside it: the person may know their database takes seconds.
        var warning = BackupFrequencyWarning(changed.Cron, changed.TimeZone, await LastBackupDurationAsync(changed.TargetId, ct));
        if (warning is not null)
        {
            logger.LogWarning("Schedule {Id} saved as '{Cron}': {Warning}", scheduleId, changed.Cron, warning);
            await audit.RecordAsync(actor, AuditActions.ScheduleChanged, scheduleId, AuditOutcome.Succeeded, $"Saved with a warning: {warning}", ct);
        }

        return changed with { Warning = warning };
    }

    public Task<ScheduleView> PauseAsync(Actor actor, string scheduleId, CancellationToken ct) =>
        ChangeAsync(actor, scheduleId, s =>
        {
            s.Paused = true;
            return "Paused.";
        }, ct);

    public Task<ScheduleView> ResumeAsync(Actor actor, string scheduleId, CancellationToken ct) =>
        ChangeAsync(actor, scheduleId, s =>
        {
            s.Paused = false;
            return "Resumed.";
        }, ct);

    /// <summary>Starts the schedule's job now, paused or not. Returns the Hangfire job id.</summary>
    public async Task<string> RunNowAsync(Actor actor, string scheduleId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSchedules, AuditActions.ScheduleChanged, scheduleId, ct);
        var setting = await FindAsync(scheduleId, ct);
        var jobId = backgroundJobs.Create(JobOf(setting), new EnqueuedState());
        await audit.RecordAsync(actor, AuditActions.ScheduleChanged, scheduleId, AuditOutcome.Succeeded, $"Run now (job {jobId}).", ct);
        return jobId;
    }

    private async Task<ScheduleView> ChangeAsync(Actor actor, string scheduleId, Func<ScheduleSetting, string> change, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.ManageSchedules, AuditActions.ScheduleChanged, scheduleId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var setting = await db.Set<ScheduleSetting>().SingleOrDefaultAsync(s => s.Id == scheduleId, ct)
            ?? throw new KeyNotFoundException($"There is no schedule '{scheduleId}'; nothing was changed.");
        var detail = change(setting);
        setting.UpdatedAt = time.GetUtcNow();
        setting.UpdatedBy = actor.Name;
        await db.SaveChangesAsync(ct);
        Register(setting);
        await audit.RecordAsync(actor, AuditActions.ScheduleChanged, scheduleId, AuditOutcome.Succeeded, detail, ct);
        return View(setting);
    }

    private async Task<ScheduleSetting> FindAsync(string scheduleId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<ScheduleSetting>().AsNoTracking().SingleOrDefaultAsync(s => s.Id == scheduleId, ct)
            ?? throw new KeyNotFoundException($"There is no schedule '{scheduleId}'; nothing was started.");
    }

    private void Register(ScheduleSetting setting)
    {
        if (setting.Paused)
        {
            recurringJobs.RemoveIfExists(setting.Id);
            logger.LogInformation("Schedule {Id} is paused; its recurring job is removed", setting.Id);
            return;
        }

        recurringJobs.AddOrUpdate(setting.Id, JobOf(setting), setting.Cron, new RecurringJobOptions
        {
            TimeZone = CronSchedule.FindZone(setting.TimeZone) ?? TimeZoneInfo.Utc,
        });
        logger.LogInformation("Schedule {Id}: '{Cron}' in {TimeZone}", setting.Id, setting.Cron, setting.TimeZone);
    }

    // Hangfire replaces CancellationToken.None with the job's own token when it runs.
    private static Job JobOf(ScheduleSetting setting) => setting.Kind switch
    {
        ScheduleKind.Backup => Job.FromExpression<IScheduledBackupJob>(j => j.RunScheduledAsync(setting.TargetId, CancellationToken.None)),
        ScheduleKind.Verification => Job.FromExpression<IScheduledVerificationJob>(j => j.RunScheduledAsync(setting.TargetId, CancellationToken.None)),
        ScheduleKind.Retention => Job.FromExpression<RetentionJob>(j => j.RunAsync(setting.TargetId, CancellationToken.None)),
        ScheduleKind.Drill => Job.FromExpression<RecoveryJob>(j => j.RunScheduledDrillAsync(setting.TargetId, CancellationToken.None)),
        _ => Job.FromExpression<IScheduledJwksCheckJob>(j => j.RunScheduledAsync(setting.TargetId, CancellationToken.None)),
    };

    private ScheduleView View(ScheduleSetting s, bool withWarning = false, TimeSpan? lastBackup = null)
    {
        var zone = CronSchedule.FindZone(s.TimeZone) ?? TimeZoneInfo.Utc;
        IReadOnlyList<CronOccurrence> next = !s.Paused && CronSchedule.TryParse(s.Cron, out var cron, out _)
            ? CronSchedule.Next(cron, time.GetUtcNow(), zone)
            : [];
        var warning = withWarning && s.Kind == ScheduleKind.Backup && !s.Paused ? BackupFrequencyWarning(s.Cron, s.TimeZone, lastBackup) : null;
        return new ScheduleView(s.Id, s.Kind, s.TargetId, s.Cron, s.TimeZone, s.Paused, s.UpdatedAt, s.UpdatedBy, next, warning);
    }
}
