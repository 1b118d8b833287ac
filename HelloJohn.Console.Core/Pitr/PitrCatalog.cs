using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>Reads what the window is computed from: the files really present in the first daily store (so a file
/// deleted behind the console's back shows as a gap), their catalogued commit times, the timeline histories, the
/// base backups and the receiver's newest commit.</summary>
public sealed class PitrCatalog(IDbContextFactory<ConsoleDbContext> dbFactory, PitrArchiveStores stores, TimeProvider time)
{
    /// <summary>Pages re-read the window at every pushed change (about once a second while WAL arrives): the store
    /// listing behind it is reused this long. A restore plan always lists afresh.</summary>
    private static readonly TimeSpan ListingReuse = TimeSpan.FromSeconds(3);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, (DateTimeOffset At, IReadOnlyList<(WalFileName File, string Key, long Size)> Files)> _listings = new();

    public sealed record Snapshot(
        RecoverableWindow Window,
        IReadOnlyDictionary<WalFileName, WalArchiveFile> Catalogued,
        IReadOnlyList<BaseBackupRecord> BaseBackups,
        IReadOnlyDictionary<int, TimelineHistory> Histories,
        PitrServerState? State);

    public async Task<Snapshot> LoadAsync(Guid server, CancellationToken ct, bool fresh = false)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var catalogued = (await db.Set<WalArchiveFile>().AsNoTracking().Where(w => w.TargetId == server).ToListAsync(ct))
            .ToDictionary(w => new WalFileName(w.Kind, w.Timeline, w.Segment));
        var backups = await db.Set<BaseBackupRecord>().AsNoTracking().Where(b => b.TargetId == server).OrderByDescending(b => b.StartedAt).ToListAsync(ct);
        var state = await db.Set<PitrServerState>().AsNoTracking().FirstOrDefaultAsync(s => s.TargetId == server, ct);
        var now = time.GetUtcNow();
        IReadOnlyList<(WalFileName File, string Key, long Size)> present;
        // A listing older than a file the catalog holds would hide that file (no window before the first segment
        // shows up in it): it is only reused while it names every catalogued file.
        if (!fresh && _listings.TryGetValue(server, out var cached) && now - cached.At < ListingReuse && NamesAll(cached.Files, catalogued.Keys))
        {
            present = cached.Files;
        }
        else
        {
            present = await stores.ListWalAsync(server, ct);
            _listings[server] = (now, present);
        }

        var files = present
            .Where(p => p.File.Kind != WalFileKind.History)
            .Select(p => new WindowFile(p.File, catalogued.TryGetValue(p.File, out var c) ? c.LastCommitAt : null))
            .ToList();
        var histories = catalogued.Values.Where(w => w.Kind == WalFileKind.History && w.Content is not null)
            .ToDictionary(w => w.Timeline, w => TimelineHistory.Parse(w.Timeline, w.Content!));
        var usable = backups.Where(b => b.Status == BaseBackupStatus.Succeeded && b.StartLsn is not null && b.EndLsn is not null && b.ConsistentAt is not null)
            .Select(b => new WindowBackup(b.Id, b.Timeline, Lsn.Parse(b.StartLsn!), Lsn.Parse(b.EndLsn!), b.ConsistentAt!.Value))
            .ToList();
        (int, DateTimeOffset)? live = state is { NewestCommitAt: { } at, Timeline: > 0 } ? (state.Timeline, at) : null;
        var window = RecoverableWindow.Compute(files, histories, usable, live);
        return new Snapshot(window, catalogued, backups, histories, state);
    }

    private static bool NamesAll(IReadOnlyList<(WalFileName File, string Key, long Size)> listing, IEnumerable<WalFileName> catalogued)
    {
        var listed = listing.Select(p => p.File).ToHashSet();
        return catalogued.All(listed.Contains);
    }
}
