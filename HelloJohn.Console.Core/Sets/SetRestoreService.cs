using Hangfire;
using Hangfire.States;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Sets;

/// <summary>Where each database of a set would be restored, checked before anything is started.</summary>
public sealed record SetRestorePlanItem(string Database, Guid BackupId, string NewDatabase, string? Problem);

/// <summary>Restores a whole set into new databases on its deployment's server, each named with a chosen prefix and/or
/// suffix (<c>restored_</c> + <c>hellojohn_tenant_acme</c>). Every name is checked first (valid, free, not a live
/// database): one bad name and nothing is started. Each database is then a restore run of its own, on the members'
/// queue, with today's safeguards (the file proven before anything is created, one restore per database). The roles
/// are never applied here: <see cref="SetRolesService"/> shows what they would change first.</summary>
public sealed class SetRestoreService(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RestoreRequests requests,
    SetMembers members,
    IBackgroundJobClient jobs,
    IAuditLog audit,
    CallerGate gate)
{
    /// <summary>Where each kept member would go, and why a name cannot be used; nothing is changed.</summary>
    public async Task<IReadOnlyList<SetRestorePlanItem>> PlanAsync(Guid setId, string? prefix, string? suffix, CancellationToken ct)
    {
        var plan = new List<SetRestorePlanItem>();
        foreach (var member in (await members.LatestAsync(setId, ct)).Where(m => m.Kept))
        {
            var name = $"{prefix}{member.Database}{suffix}";
            string? problem = null;
            if (string.IsNullOrEmpty(prefix) && string.IsNullOrEmpty(suffix))
            {
                problem = "Give a prefix or a suffix: without one each database would be restored over itself, which is a restore in place of one database at a time.";
            }
            else
            {
                var check = await requests.CheckDatabaseNameAsync(member.BackupId, name, null, ct);
                problem = check.Problem ?? (check.Exists ? $"A database named {name} already exists on the server." : null);
            }

            plan.Add(new SetRestorePlanItem(member.Database, member.BackupId, name, problem));
        }

        if (plan.Select(p => p.NewDatabase).Distinct(StringComparer.Ordinal).Count() != plan.Count)
        {
            throw new RestoreRefusedException("Two databases of the set would get the same name. Choose another prefix or suffix; nothing was restored.");
        }

        return plan;
    }

    /// <summary>Queues one restore into a new database per kept member. Returns the restore runs' ids.</summary>
    public async Task<IReadOnlyList<Guid>> RestoreAsync(Actor actor, Guid setId, string? prefix, string? suffix, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, AuditActions.SetRestoreRequested, setId.ToString(), ct);

        string setName;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var set = await db.Set<BackupSet>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId, ct)
                ?? throw new KeyNotFoundException($"There is no backup set {setId}. Nothing was restored.");
            if (set.Status is not (BackupSetStatus.Succeeded or BackupSetStatus.Partial))
            {
                throw new RestoreRefusedException($"{set.Name} is {set.Status.ToString().ToLowerInvariant()}; only a finished set can be restored. Nothing was restored.");
            }

            setName = set.Name;
        }

        var plan = await PlanAsync(setId, prefix?.Trim(), suffix?.Trim(), ct);
        var bad = plan.FirstOrDefault(p => p.Problem is not null);
        if (plan.Count == 0 || bad is not null)
        {
            var why = bad is null ? $"{setName} holds no kept database." : $"{bad.NewDatabase}: {bad.Problem}";
            await audit.RecordAsync(actor, AuditActions.SetRestoreRequested, setName, AuditOutcome.Failed, why, ct);
            throw new RestoreRefusedException($"{why} Nothing was restored.");
        }

        var runIds = new List<Guid>();
        foreach (var item in plan)
        {
            runIds.Add(await requests.AcceptAsync(actor, new RestoreRequest(item.BackupId, RestoreMode.NewDatabase, item.NewDatabase), ct));
        }

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            foreach (var runId in runIds)
            {
                var jobId = jobs.Create(Hangfire.Common.Job.FromExpression<RestoreJob>(j => j.RunAsync(runId, CancellationToken.None)), new EnqueuedState(SetJobs.Queue));
                await db.Set<RunRecord>().Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, jobId), ct);
            }
        }

        await audit.RecordAsync(actor, AuditActions.SetRestoreRequested, setName, AuditOutcome.Succeeded,
            $"{plan.Count} database(s) into new databases: {string.Join(", ", plan.Select(p => p.NewDatabase))}. Roles not applied.", ct);
        return runIds;
    }
}
