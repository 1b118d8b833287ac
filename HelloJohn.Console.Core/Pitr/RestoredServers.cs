using System.Globalization;
using HelloJohn.Console.Core.Audit;
using HelloJohn.Console.Core.Data;
using HelloJohn.Console.Core.Postgres;
using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>A server a point-in-time restore left on this machine, as the Point-in-time page lists it.</summary>
public sealed record RestoredServerView(
    Guid Id,
    Guid Server,
    string DataDirectory,
    int Port,
    PitrRestoreMode Mode,
    DateTimeOffset TargetTime,
    string Zone,
    PitrRestoreLifecycleFacts Restore,
    RestoredServerLiveState Live,
    string? UsedBy,
    DateTimeOffset? RemovedAt,
    string? RemovedBy,
    DateTimeOffset CheckedAt)
{
    /// <summary>What a user types to confirm removing it (the port is accepted too).</summary>
    public string DirectoryName => RestoredServers.DirectoryNameOf(DataDirectory);

    public bool CanStop => Live.State == RestoredServerState.Running && UsedBy is null;

    public bool CanStart => Live.State == RestoredServerState.Stopped;

    public bool CanRemove => Live.State is RestoredServerState.Running or RestoredServerState.Stopped or RestoredServerState.Missing && UsedBy is null;
}

/// <summary>Lists the servers point-in-time restores left behind, with their live state, and stops, starts and removes
/// them. Each holds a full copy of the database (every user's password hash) and a port, so none is left unseen.
/// Stop and start need the restore's own permission; remove (stop, then delete the data directory) is Admin only and
/// needs the directory's name or the port typed. Every action, refusals included, is audited.</summary>
public sealed class RestoredServers(
    IDbContextFactory<ConsoleDbContext> dbFactory,
    RestoredServerInspector inspector,
    IPgToolRunner runner,
    ConsoleLocks locks,
    IAuditLog audit,
    CallerGate gate,
    PitrNotifier notifier,
    TimeProvider time,
    ILogger<RestoredServers> logger)
{
    /// <summary>Removed servers kept in the list, newest first, for the record.</summary>
    public const int RemovedShown = 10;

    public static string DirectoryNameOf(string dataDirectory) => Path.GetFileName(Path.TrimEndingDirectorySeparator(dataDirectory));

    public async Task<IReadOnlyList<RestoredServerView>> ListAsync(Guid server, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var restores = await PitrRestoreLifecycle.WithServers(db.Set<PitrRestoreRecord>().AsNoTracking().Where(r => r.TargetId == server)).ToListAsync(ct);
        var shown = restores.Where(r => r.RemovedAt is null).Concat(restores.Where(r => r.RemovedAt is not null).Take(RemovedShown)).ToList();
        var used = await inspector.LocalPortsInUseAsync(ct);
        var views = await Task.WhenAll(shown.Select(r => ViewAsync(r, used, ct)));
        return [.. views.OrderByDescending(v => v.Restore.RequestedAt)];
    }

    public async Task<RestoredServerView> GetAsync(Guid restoreId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var record = await PitrRestoreLifecycle.WithRun(db.Set<PitrRestoreRecord>().AsNoTracking()).FirstOrDefaultAsync(r => r.Id == restoreId, ct);
        if (record is null || PitrRestoreLifecycle.Failed(record))
        {
            throw new KeyNotFoundException($"There is no restored server {restoreId}: the link is wrong, or its restore failed and left nothing. Nothing was done.");
        }

        return await ViewAsync(record, await inspector.LocalPortsInUseAsync(ct), ct);
    }

    /// <summary>Refuses a new restore onto the port of a restored server that is not removed: a stopped one starts
    /// again there, and a queued one has not opened it yet.</summary>
    public async Task RefuseTakenPortAsync(int port, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var owner = await PitrRestoreLifecycle.WithServers(db.Set<PitrRestoreRecord>().AsNoTracking())
            .Where(r => r.Port == port && r.RemovedAt == null).Select(r => r.DataDirectory).FirstOrDefaultAsync(ct);
        if (owner is not null)
        {
            throw new PitrInputException($"Port {port.ToString(CultureInfo.InvariantCulture)} belongs to the restored server in {owner}, which starts again there. Choose another port, leave it empty for a free one, or remove that server first. Nothing was restored.");
        }
    }

    /// <summary>Stops a running restored server (<c>pg_ctl stop -m fast</c>). Its directory stays; it can start again.</summary>
    public async Task<string> StopAsync(Actor actor, Guid restoreId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, AuditActions.PitrRestoredServerStopped, restoreId.ToString(), ct);
        return await ActAsync(actor, restoreId, AuditActions.PitrRestoredServerStopped, "stopped", async (view, subject) =>
        {
            if (Refusal(view, "stopped") is { } refusal)
            {
                return await RefuseAsync(actor, AuditActions.PitrRestoredServerStopped, subject, refusal);
            }

            if (view.Live.State != RestoredServerState.Running)
            {
                return await RefuseAsync(actor, AuditActions.PitrRestoredServerStopped, subject, $"{subject} is not running ({view.Live.Detail}). Nothing was stopped.");
            }

            await StopServerAsync(actor, AuditActions.PitrRestoredServerStopped, view, subject, "Nothing else was changed");
            var message = $"{subject} stopped (fast shutdown). Its data directory stays; start it again or remove it.";
            await audit.RecordAsync(actor, AuditActions.PitrRestoredServerStopped, subject, AuditOutcome.Succeeded, message, CancellationToken.None);
            return message;
        }, ct);
    }

    /// <summary>Starts a stopped restored server again, on its own port, from its intact data directory.</summary>
    public async Task<string> StartAsync(Actor actor, Guid restoreId, CancellationToken ct)
    {
        actor = await gate.DemandAsync(actor, ConsolePermission.RestoreToNewDatabase, AuditActions.PitrRestoredServerStarted, restoreId.ToString(), ct);
        return await ActAsync(actor, restoreId, AuditActions.PitrRestoredServerStarted, "started", async (view, subject) =>
        {
            if (Refusal(view, "started") is { } refusal)
            {
                return await RefuseAsync(actor, AuditActions.PitrRestoredServerStarted, subject, refusal);
            }

            var why = view.Live.State switch
            {
                RestoredServerState.Running => $"{subject} is already running ({view.Live.Detail}). Nothing was started.",
                RestoredServerState.Missing => $"{subject} cannot start: {view.Live.Detail} Nothing was started; remove it from the list.",
                _ when RestoredServerInspector.PortIsTaken(view.Port) =>
                    $"Port {view.Port.ToString(CultureInfo.InvariantCulture)} is now taken by another program on this machine, and a restored server keeps its port (HelloJohn or scripts may point at it). Nothing was started. Stop what listens there, or remove this copy and restore again on a free port.",
                _ => null,
            };
            if (why is not null)
            {
                return await RefuseAsync(actor, AuditActions.PitrRestoredServerStarted, subject, why);
            }

            var log = Path.Combine(view.DataDirectory, PointInTimeRestoreEngine.LogFile);
            var start = await runner.RunAsync(new PgToolInvocation("pg_ctl", ["-D", view.DataDirectory, "-l", log, "-w", "-t", "600", "start"]) { AsServerUser = true }, ct);
            if (!start.Succeeded)
            {
                var failed = $"{subject} did not start: {RestoredServer.LogTail(log)}";
                await audit.RecordAsync(actor, AuditActions.PitrRestoredServerStarted, subject, AuditOutcome.Failed, failed, CancellationToken.None);
                throw new InvalidOperationException(failed);
            }

            var message = view.Mode == PitrRestoreMode.Verify
                ? $"{subject} started again: it replays to its target and pauses there, read only."
                : $"{subject} started again.";
            await audit.RecordAsync(actor, AuditActions.PitrRestoredServerStarted, subject, AuditOutcome.Succeeded, message, CancellationToken.None);
            return message;
        }, ct);
    }

    /// <summary>Stops the server if it runs, then deletes its data directory. Refused (nothing done) without the
    /// directory's name or port typed, while the restore runs, and when the console itself points at the server.</summary>
    /// <param name="confirmation">The data directory's name, or the port, as the administrator typed it.</param>
    public async Task<string> RemoveAsync(Actor actor, Guid restoreId, string? confirmation, CancellationToken ct)
    {
        const string action = AuditActions.PitrRestoredServerRemoved;
        actor = await gate.DemandAsync(actor, ConsolePermission.RemoveRestoredServer, action, restoreId.ToString(), ct);
        return await ActAsync(actor, restoreId, action, "removed", async (view, subject) =>
        {
            var typed = confirmation?.Trim();
            if (typed != view.DirectoryName && typed != view.Port.ToString(CultureInfo.InvariantCulture))
            {
                return await RefuseAsync(actor, action, subject, $"Type the data directory's name ({view.DirectoryName}) or the port ({view.Port.ToString(CultureInfo.InvariantCulture)}) exactly to confirm. Nothing was removed.");
            }

            if (Refusal(view, "removed") is { } refusal)
            {
                return await RefuseAsync(actor, action, subject, refusal);
            }

            if (Directory.Exists(view.DataDirectory) && !RestoredServerInspector.IsIntact(view.DataDirectory) && Directory.EnumerateFileSystemEntries(view.DataDirectory).Any())
            {
                return await RefuseAsync(actor, action, subject, $"{view.DataDirectory} no longer holds a PostgreSQL data directory but is not empty: something else may live there now, so the console does not delete it. Nothing was removed.");
            }

            if (view.Live.State == RestoredServerState.Running)
            {
                await StopServerAsync(actor, action, view, subject, "Nothing was deleted");
            }

            try
            {
                await Task.Run(() =>
                {
                    if (Directory.Exists(view.DataDirectory))
                    {
                        Directory.Delete(view.DataDirectory, recursive: true);
                    }
                }, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var failed = $"{subject} was stopped, but its data directory could not be deleted completely: {e.Message} Remove it again once the cause is fixed.";
                await audit.RecordAsync(actor, action, subject, AuditOutcome.Failed, failed, CancellationToken.None);
                throw new InvalidOperationException(failed, e);
            }

            await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            {
                await db.Set<PitrRestoreRecord>().Where(r => r.Id == view.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.RemovedAt, (DateTimeOffset?)time.GetUtcNow()).SetProperty(r => r.RemovedBy, actor.Name), CancellationToken.None);
            }

            var freed = view.Live.SizeBytes is { } bytes ? $" ({bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes freed)" : "";
            var message = $"{subject} was {(view.Live.State == RestoredServerState.Running ? "stopped and " : "")}removed: its data directory was deleted{freed}.";
            await audit.RecordAsync(actor, action, subject, AuditOutcome.Succeeded, message, CancellationToken.None);
            logger.LogInformation("Restored server {Directory} on port {Port} removed by {Actor}", view.DataDirectory, view.Port, actor.Name);
            return message;
        }, ct);
    }

    /// <summary>Runs one action on one restored server, alone (across instances), with its current state; publishes
    /// the change so open pages reload.</summary>
    private async Task<string> ActAsync(Actor actor, Guid restoreId, string action, string done, Func<RestoredServerView, string, Task<string>> act, CancellationToken ct)
    {
        await using var held = await locks.TryAcquireAsync($"pitr-restored-server:{restoreId:N}", ct);
        RestoredServerView view;
        try
        {
            view = await GetAsync(restoreId, ct);
        }
        catch (KeyNotFoundException e)
        {
            await audit.RecordAsync(actor, action, restoreId.ToString(), AuditOutcome.Failed, e.Message, CancellationToken.None);
            throw;
        }

        var subject = $"{view.DataDirectory} (port {view.Port.ToString(CultureInfo.InvariantCulture)})";
        if (held is null)
        {
            return await RefuseAsync(actor, action, subject, $"Another action on {subject} is under way; reload the page when it has finished. Nothing was {done}.");
        }

        try
        {
            return await act(view, subject);
        }
        finally
        {
            notifier.Publish(view.Server);
        }
    }

    /// <summary>Why no action may touch the server now, whatever it is; null when one may.</summary>
    private static string? Refusal(RestoredServerView view, string done) =>
        view.RemovedAt is { } at ? $"{view.DataDirectory} was removed by {view.RemovedBy} at {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC. Nothing was {done}."
        : view.Restore.InProgress ? $"The restore into {view.DataDirectory} is still running ({view.Restore.Phase}); wait for it to finish. Nothing was {done}."
        : view.UsedBy is { } user ? $"{user} points at 127.0.0.1:{view.Port.ToString(CultureInfo.InvariantCulture)}: this restored server is in use. Point it elsewhere first (Settings → Targets). Nothing was {done}."
        : null;

    private async Task StopServerAsync(Actor actor, string action, RestoredServerView view, string subject, string untouched)
    {
        var stop = await runner.RunAsync(new PgToolInvocation("pg_ctl", ["-D", view.DataDirectory, "-m", "fast", "-w", "-t", "120", "stop"]) { AsServerUser = true }, CancellationToken.None);
        // It may have stopped by itself since it was read: only a server still running is a failure.
        if (!stop.Succeeded && (await inspector.InspectAsync(view.DataDirectory, view.Port, CancellationToken.None)).State == RestoredServerState.Running)
        {
            var failed = $"{subject} did not stop: {stop.ErrorSummary}. {untouched}.";
            await audit.RecordAsync(actor, action, subject, AuditOutcome.Failed, failed, CancellationToken.None);
            throw new InvalidOperationException(failed);
        }
    }

    private async Task<string> RefuseAsync(Actor actor, string action, string subject, string message)
    {
        await audit.RecordAsync(actor, action, subject, AuditOutcome.Failed, message, CancellationToken.None);
        throw new InvalidOperationException(message);
    }

    private async Task<RestoredServerView> ViewAsync(PitrRestoreRecord record, IReadOnlyDictionary<int, string> used, CancellationToken ct)
    {
        var facts = PitrRestoreLifecycle.Of(record);
        var live = record.RemovedAt is not null ? new RestoredServerLiveState(RestoredServerState.Removed, false, null, $"removed by {record.RemovedBy}")
            : facts.InProgress ? new RestoredServerLiveState(RestoredServerState.Restoring, false, RestoredServerInspector.SizeOf(record.DataDirectory), facts.Phase ?? "queued")
            : await inspector.InspectAsync(record.DataDirectory, record.Port, ct);
        var usedBy = live.State is RestoredServerState.Removed ? null : used.GetValueOrDefault(record.Port);
        return new RestoredServerView(record.Id, record.TargetId, record.DataDirectory, record.Port, record.Mode, record.TargetTime, record.Zone, facts, live, usedBy,
            record.RemovedAt, record.RemovedBy, time.GetUtcNow());
    }
}
