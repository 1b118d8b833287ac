using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Verification;

/// <summary>Verifications as runs. After a dead instance's verification, its throw-away database is dropped.</summary>
internal sealed class VerificationRunKind(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    IOptionsMonitor<VerificationOptions> options,
    TimeProvider time) : IRunKind
{
    public RunKind Kind => RunKind.Verification;

    public string? FinishedAuditAction => AuditActions.VerificationFinished;

    public async Task<string> SubjectAsync(ConsoleDbContext db, RunRecord run, CancellationToken ct) =>
        await db.Set<VerificationRun>().Where(r => r.Id == run.Id).Select(r => r.BackupFileName).FirstOrDefaultAsync(ct) ?? run.Id.ToString();

    public async Task<AbandonedRunCleanup> CleanUpAbandonedAsync(RunRecord run, CancellationToken ct)
    {
        string? name;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            name = await db.Set<VerificationRun>().Where(r => r.Id == run.Id).Select(r => r.DatabaseName).FirstOrDefaultAsync(ct);
        }

        if (name is null || !DatabaseNames.IsVerificationDatabase(name) || run.TargetId is not { } targetId)
        {
            return new AbandonedRunCleanup("No database was created. Verify the backup again.");
        }

        var server = string.IsNullOrWhiteSpace(options.CurrentValue.ScratchServer)
            ? await targets.GetConnectionAsync(targetId, ct)
            : PgConnection.Parse(options.CurrentValue.ScratchServer);
        var reason = await ServerDatabases.DropCreatedAsync(server, name, time);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Set<VerificationRun>().Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.DatabaseDropped, reason == null), ct);
        }

        return new AbandonedRunCleanup(reason is null
            ? $"Its throw-away database {name} was dropped. Verify the backup again."
            : $"Its throw-away database {name} could not be dropped ({reason}); the next verification drops it. Verify the backup again.");
    }
}
