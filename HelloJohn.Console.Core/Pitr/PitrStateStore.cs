using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Tells open pages, within this process, that a server's PITR state moved (receiver, window, base backup,
/// restore). Pages re-read through <see cref="PitrService"/>.</summary>
public sealed class PitrNotifier
{
    public event Action<Guid>? Changed;

    public void Publish(Guid server) => Changed?.Invoke(server);
}

/// <summary>The folders this instance works in: <c>{work}/{server}/spool</c> (pg_receivewal's) and scratch space.</summary>
public sealed class PitrWorkspace(IOptions<PitrOptions> options, Hosting.ConsoleWorkFolder workFolder)
{
    public string Root => options.Value.WorkDirectory;

    public string SpoolOf(Guid server) => Path.Combine(Root, server.ToString("N"), "spool");

    /// <summary>Where the wizard restores a server: the PostgreSQL server user must be able to enter it, which folders
    /// under /root are not.</summary>
    public string RestoreDirectoryFor(Guid run) => Postgres.PgToolRunner.IsRoot
        ? Path.Combine("/var/tmp/hellojohn-console/restores", run.ToString("N"))
        : Path.Combine(Root, "restores", run.ToString("N"));

    /// <summary>A new folder for scratch work (a base backup: a full copy of the database, every user's password hash)
    /// in this process's own 0700 folder inside the PITR work directory, which is sized for it; what a process that
    /// died left there is removed at the next start.</summary>
    public string ScratchFor(string purpose) => ScratchOf(purpose, Guid.NewGuid());

    /// <summary>The scratch folder of one run in this process's work folder, named by the run's id so that the sweep
    /// finds it again (<see cref="ScratchFoldersOf"/>).</summary>
    public string ScratchOf(string purpose, Guid run) => Path.Combine(workFolder.FolderUnder(Root), $"{purpose}-{run:N}");

    /// <summary>The scratch folders of one run left in any console process's work folder on this host (a dead one's
    /// included, until its folder is removed).</summary>
    public IReadOnlyList<string> ScratchFoldersOf(string purpose, Guid run)
    {
        var processes = Path.GetDirectoryName(workFolder.FolderUnder(Root))!;
        return Directory.Exists(processes)
            ? [.. Directory.EnumerateDirectories(processes).Select(d => Path.Combine(d, $"{purpose}-{run:N}")).Where(Directory.Exists)]
            : [];
    }

    /// <summary>Where console versions before the per-process work folders kept base backup scratch.</summary>
    public static string LegacyScratchOf(string workDirectory) => Path.Combine(workDirectory, "scratch");
}

/// <summary>Reads and writes <see cref="PitrServerState"/>, one change at a time per process, and announces changes.</summary>
public sealed class PitrStateStore(IDbContextFactory<ConsoleDbContext> dbFactory, PitrNotifier notifier, TimeProvider time, PitrConnections connections)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<PitrServerState?> GetAsync(Guid server, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Set<PitrServerState>().AsNoTracking().FirstOrDefaultAsync(s => s.TargetId == server, ct);
    }

    public async Task UpdateAsync(Guid server, Action<PitrServerState> change, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Set<PitrServerState>().FirstOrDefaultAsync(s => s.TargetId == server, ct);
            if (row is null)
            {
                row = new PitrServerState { TargetId = server, SlotName = connections.SlotName(server) };
                db.Add(row);
            }

            change(row);
            row.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            _gate.Release();
        }

        notifier.Publish(server);
    }

    /// <summary>Records what the archiver saw, when it moved.</summary>
    public async Task RecordProgressAsync(Guid server, SpoolProgress progress, CancellationToken ct)
    {
        var current = await GetAsync(server, ct);
        var received = progress.Received?.ToString();
        var commit = progress.NewestCommitLsn?.ToString();
        if (current is not null && current.LastReceivedLsn == received && current.NewestCommitLsn == commit && progress.Archived == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        await UpdateAsync(server, s =>
        {
            if (received is not null && s.LastReceivedLsn != received)
            {
                s.LastReceivedLsn = received;
                s.LastReceivedAt = now;
            }

            if (progress.NewestCommitAt is { } at && (s.NewestCommitAt is null || at >= s.NewestCommitAt))
            {
                s.NewestCommitAt = at;
                s.NewestCommitLsn = commit;
            }

            if (progress.Timeline > 0)
            {
                s.Timeline = progress.Timeline;
            }
        }, ct);
    }
}
