using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Restores;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Targets;
using HelloJohn.Console.Core.Verification.Scratch;
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
        string? where;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var restored = await db.Set<VerificationRun>().Where(r => r.Id == run.Id).Select(r => new { r.DatabaseName, r.Server }).FirstOrDefaultAsync(ct);
            (name, where) = (restored?.DatabaseName, restored?.Server);
        }

        if (name is null || !DatabaseNames.IsVerificationDatabase(name) || run.TargetId is not { } targetId)
        {
            return new AbandonedRunCleanup("No database was created. Verify the backup again.");
        }

        if (where?.StartsWith(ScratchLease.DescriptionStart, StringComparison.Ordinal) == true)
        {
            // The dead console's scratch cluster went with it: its folder is removed by the next console to start there.
            return new AbandonedRunCleanup($"Its throw-away database {name} was in that console's private scratch cluster, which is discarded with it; no other server held it. Verify the backup again.");
        }

        // The server the run recorded (host:port): the configured scratch server when it was that one, else the target's.
        var scratchServer = string.IsNullOrWhiteSpace(options.CurrentValue.ScratchServer) ? null : PgConnection.Parse(options.CurrentValue.ScratchServer);
        var server = scratchServer is not null && (where is null || where == $"{scratchServer.Host}:{scratchServer.Port}")
            ? scratchServer
            : await targets.GetConnectionAsync(targetId, ct);
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
