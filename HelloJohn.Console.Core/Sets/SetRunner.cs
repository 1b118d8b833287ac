using HelloJohn.Console.Core.Backups;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Storage;
using HelloJohn.Console.Core.Targets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HelloJohn.Console.Core.Sets;

/// <summary>Where a set's own run is, in words for its live view.</summary>
public static class SetPhase
{
    public const string Queued = "Queued";
    public const string Scanning = "Looking at the server";
    public const string Roles = "Keeping the roles";
    public const string Members = "Dumping databases";
    public const string Manifest = "Writing the set manifest";
}

/// <summary>Starts a set: claims its run, looks at the deployment's server (which databases the selection picks
/// tonight, which are gone), keeps the server's roles, creates one backup run per database and queues them on the
/// members' queue, then lets go of the set. The members run wherever a worker is free; the last one to end has the set
/// finished (<see cref="SetFinisher"/>). A retry of a partial set queues only the members that failed.</summary>
public sealed class SetRunner(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    TargetService targets,
    DeploymentScanner scanner,
    ServerRoles roles,
    IBackupStoreRegistry stores,
    RunLifecycle lifecycle,
    SetMembers members,
    SetFinisher finisher,
    TimeProvider time,
    ILogger<SetRunner> logger)
{
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        BackupSet? set;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            set = await db.Set<BackupSet>().AsNoTracking().Include(s => s.Target).FirstOrDefaultAsync(s => s.CurrentRunId == runId, ct);
        }

        if (set is null)
        {
            logger.LogInformation("Run {RunId} is no set's current run; nothing to do", runId);
            return;
        }

        var claim = await lifecycle.ClaimAsync(runId, SetPhase.Scanning, ct);
        if (claim is null)
        {
            logger.LogInformation("Set {Set} was cancelled before it started; nothing to do", set.Name);
            return;
        }

        var queued = 0;
        await using (claim)
        {
            queued = await StartAsync(claim, set);
        }

        if (queued == 0)
        {
            // Nothing was left to dump (a retry of the roles alone): the set ends here.
            await finisher.TryFinishAsync(set.Id, CancellationToken.None);
        }
    }

    /// <summary>Everything up to the members being queued; returns how many were, or ends the run and returns -1.</summary>
    private async Task<int> StartAsync(RunClaim claim, BackupSet set)
    {
        NpgsqlConnectionStringBuilder? connection = null;
        var created = new List<Guid>();
        try
        {
            connection = await targets.GetConnectionAsync(set.TargetId, claim.Token);
            bool first;
            await using (var db = await dbFactory.CreateDbContextAsync(claim.Token))
            {
                first = !await db.Backups.AnyAsync(b => b.SetId == set.Id, claim.Token);
            }

            IReadOnlyList<string> databases;
            var gone = set.GoneDatabases;
            if (first)
            {
                var scan = await scanner.RefreshAsync(set.TargetId, claim.Token);
                // A database listed by name and missing is a member that fails with the server's own words.
                databases = [.. scan.Protected.Select(d => d.Name), .. scan.MissingListed];
                gone = [.. (await scanner.DatabasesAsync(set.TargetId, claim.Token)).Where(d => d.State == DeploymentDatabaseState.Gone).Select(d => d.Name)];
                if (databases.Count == 0)
                {
                    throw new SetRefusedException($"{set.Target!.Name} selects no database on {connection.Host}:{connection.Port} now ({set.Target.Selection}). Nothing was backed up; check the deployment under Settings.");
                }
            }
            else
            {
                databases = await members.FailedDatabasesAsync(set.Id, claim.Token);
            }

            if (first || set.RolesFailed)
            {
                await lifecycle.SetPhaseAsync(claim, SetPhase.Roles);
                await KeepRolesAsync(set, connection, claim.Token);
            }

            await lifecycle.SetPhaseAsync(claim, SetPhase.Members);
            var requester = new Actor(claim.Run.RequestedByUserId, claim.Run.RequestedBy ?? "system", []);
            created.AddRange(await members.CreateAsync(set, databases, gone, requester, claim.Token));
            await members.EnqueueAsync(created, claim.Token);
            await lifecycle.ReleaseAsync(claim, $"{SetPhase.Members}: 0 of {created.Count} done");
            logger.LogInformation("Set {Set} of {Target}: {Count} database(s) queued{Gone}", set.Name, set.Target!.Name, created.Count,
                gone.Count == 0 ? "" : $"; gone: {string.Join(", ", gone)}");
            return created.Count;
        }
        catch (OperationCanceledException) when (claim.StopRequested)
        {
            var ended = await members.EndQueuedAsync(created, $"The set was cancelled ({claim.StopReason ?? "the console stopped"}) before this database was dumped.");
            var message = $"Cancelled before its databases were dumped ({claim.StopReason ?? "the console stopped"}). {(ended == 0 ? "Nothing was dumped." : $"{ended} queued database(s) were not dumped.")}";
            await lifecycle.FinishAsync(claim, new RunEnd(RunStatus.Cancelled, message) { AuditDetail = "cancelled: " + message, Record = (db, ct) => EndSetAsync(db, set.Id, BackupSetStatus.Cancelled, message, time.GetUtcNow(), ct) });
            return -1;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await members.EndQueuedAsync(created, "The set failed before this database was dumped.");
            var (message, kind) = e is SetRefusedException ? (e.Message, RunFailureKind.TargetRefused) : BackupFailure.Classify(e, connection);
            logger.LogWarning("Set {Set} failed before its members ran: {Message}", set.Name, message);
            await lifecycle.FinishAsync(claim, new RunEnd(RunStatus.Failed, message, kind) { AuditDetail = "failed: " + message, Record = (db, ct) => EndSetAsync(db, set.Id, BackupSetStatus.Failed, message, time.GetUtcNow(), ct) });
            return -1;
        }
    }

    /// <summary>Dumps the roles into every daily store; a failure is the set's to report (it ends partial), not a
    /// reason to leave the databases undumped.</summary>
    private async Task KeepRolesAsync(BackupSet set, NpgsqlConnectionStringBuilder connection, CancellationToken ct)
    {
        var key = SetNaming.RolesKey(set.Name);
        RolesDump? dump = null;
        string? problem = null;
        try
        {
            dump = await roles.DumpAsync(connection, ct);
            var kept = 0;
            var failures = new List<string>();
            foreach (var store in stores.StoresOf(BackupTier.Daily))
            {
                try
                {
                    await store.PutSmallAsync(key, dump.Content, ct);
                    kept++;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures.Add($"{store.Name} ({e.Message})");
                }
            }

            problem = kept == 0 ? $"The roles could not be stored: {string.Join("; ", failures)}." : null;
        }
        catch (Exception e) when (e is InvalidOperationException or NpgsqlException or IOException)
        {
            problem = $"The server's roles were not kept: {e.Message}";
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Set<BackupSet>().Where(s => s.Id == set.Id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.RolesFileName, problem == null ? key : null)
            .SetProperty(x => x.RolesSizeBytes, problem == null ? dump!.Content.LongLength : null)
            .SetProperty(x => x.RolesSha256, problem == null ? dump!.Sha256 : null)
            .SetProperty(x => x.RolesWithPasswords, problem == null && dump!.WithPasswords)
            .SetProperty(x => x.RolesNote, problem ?? dump!.Note)
            .SetProperty(x => x.RolesFailed, problem != null), ct);
        set.RolesFailed = problem != null;
        if (problem is not null)
        {
            logger.LogWarning("Set {Set}: {Problem}", set.Name, problem);
        }
    }

    internal static async Task EndSetAsync(ConsoleDbContext db, Guid setId, BackupSetStatus status, string? error, DateTimeOffset at, CancellationToken ct) =>
        await db.Set<BackupSet>().Where(s => s.Id == setId).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.Status, status)
            .SetProperty(x => x.Error, error)
            .SetProperty(x => x.FinishedAt, at), ct);
}

/// <summary>A set cannot start; the message says why and that nothing was dumped.</summary>
public sealed class SetRefusedException(string message) : InvalidOperationException(message);
