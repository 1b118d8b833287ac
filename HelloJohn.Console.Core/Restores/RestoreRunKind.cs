using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Restores;

/// <summary>Restores as runs. After a dead instance's restore, a database it created is dropped (never one it did not
/// create), and an in-place restore's record says what state the live database is in.</summary>
internal sealed class RestoreRunKind(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RestoreServers servers,
    IOptionsMonitor<RestoreOptions> options,
    TimeProvider time) : IRunKind
{
    public RunKind Kind => RunKind.Restore;

    public string? FinishedAuditAction => AuditActions.RestoreFinished;

    public async Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct) =>
        await db.Set<RestoreRun>().Where(r => r.Id == run.Id).Select(r => r.Mode + " → " + r.DatabaseName).FirstOrDefaultAsync(ct) ?? run.Id.ToString();

    public async Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        RestoreRun? restore;
        string? safetyFile;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            restore = await db.Set<RestoreRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == run.Id, ct);
            safetyFile = restore?.SafetyBackupId is { } sid ? await db.Backups.Where(b => b.Id == sid).Select(b => b.FileName).FirstOrDefaultAsync(ct) : null;
        }

        if (restore is null || run.TargetId is not { } targetId)
        {
            return new AbandonedRunCleanup("Check the database it restored into, then restore again.");
        }

        var name = restore.DatabaseName;
        if (restore.Mode == RestoreMode.InPlace)
        {
            var safety = safetyFile is null ? "" : $" The safety backup {safetyFile} holds the state before the restore.";
            return new AbandonedRunCleanup(restore.RestoreStartedAt is null
                ? $"The live database {name} was not touched.{safety}"
                : restore.Jobs == 1 && options.CurrentValue.InPlaceSingleTransaction
                    ? $"pg_restore ran in one transaction, which PostgreSQL rolled back when it stopped: {name} is as it was.{safety}"
                    : $"{name} may be partly restored: restore the safety backup {safetyFile} to return to the state before.");
        }

        if (!restore.DatabaseCreated)
        {
            await servers.ForgetAsync(restore.Id);
            return new AbandonedRunCleanup($"{name} was not touched (this restore had not created it). Restore again.");
        }

        var connection = await servers.ForRunAsync(restore, targetId, ct);
        var cleanup = await ServerDatabases.DropCreatedAsync(connection, name, time) is { } reason
            ? new AbandonedRunCleanup($"The half-restored {name} could not be dropped ({reason}): drop it by hand, then restore again.")
            : new AbandonedRunCleanup($"The half-restored {name} was dropped. Restore again.");
        await servers.ForgetAsync(restore.Id);
        return cleanup;
    }
}
