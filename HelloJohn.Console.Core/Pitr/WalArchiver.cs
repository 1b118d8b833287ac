using HelloJohn.Console.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace HelloJohn.Console.Core.Pitr;

/// <summary>What the archiver knows after a pass over the folder pg_receivewal writes to.</summary>
public sealed record SpoolProgress(Lsn? Received, DateTimeOffset? NewestCommitAt, Lsn? NewestCommitLsn, int Timeline, int Archived);

/// <summary>Moves what pg_receivewal wrote into the archive: closed segments and history files compressed into the
/// daily stores and catalogued, the segment still being written read for its newest commit and copied every
/// <see cref="PitrOptions.PartialCopyInterval"/>. One per receiver; not thread-safe.</summary>
public sealed class WalArchiver(
    Guid server,
    string spool,
    PitrArchiveStores stores,
    WalDump dump,
    IDbContextFactory<ConsoleDbContext> dbFactory,
    PitrOptions options,
    TimeProvider time,
    ILogger logger)
{
    private WalFileName? _partial;
    private Lsn? _partialEnd;
    private DateTimeOffset? _newestCommitAt;
    private Lsn? _newestCommitLsn;
    private DateTimeOffset _lastPartialCopy = DateTimeOffset.MinValue;
    private Lsn? _copiedEnd;

    /// <summary>Forgets what was read of the partial segment, after the folder was emptied for a new stream.</summary>
    public void Reset()
    {
        _partial = null;
        _partialEnd = null;
        _copiedEnd = null;
    }

    /// <summary>Archives what is new in the folder and reads the partial segment. Safe to repeat after a crash: a file
    /// the catalog already holds is not stored twice.</summary>
    public async Task<SpoolProgress> RunOnceAsync(bool copyPartialNow, CancellationToken ct)
    {
        var files = Directory.Exists(spool)
            ? Directory.EnumerateFiles(spool).Select(p => (Path: p, Ok: WalFileName.TryParse(Path.GetFileName(p), out var f), File: f)).Where(x => x.Ok).ToList()
            : [];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var known = (await db.Set<WalArchiveFile>().AsNoTracking().Where(w => w.TargetId == server && w.Kind != WalFileKind.Partial)
            .Select(w => new { w.Kind, w.Timeline, w.Segment }).ToListAsync(ct))
            .Select(w => new WalFileName(w.Kind, w.Timeline, w.Segment)).ToHashSet();
        var archived = 0;
        foreach (var (path, _, file) in files.Where(f => f.File.Kind != WalFileKind.Partial).OrderBy(f => f.File.Kind).ThenBy(f => f.File.Segment))
        {
            if (known.Contains(file))
            {
                continue;
            }

            await ArchiveClosedAsync(db, path, file, ct);
            known.Add(file);
            archived++;
        }

        RemoveArchivedSegments(files.Where(f => f.File.Kind == WalFileKind.Segment).Select(f => (f.Path, f.File)).ToList(), known);

        var partial = files.Where(f => f.File.Kind == WalFileKind.Partial).OrderBy(f => f.File.Segment).LastOrDefault();
        var timeline = files.Count == 0 ? 0 : files.Where(f => f.File.Kind != WalFileKind.History).Select(f => f.File.Timeline).DefaultIfEmpty(0).Max();
        if (partial.Path is not null)
        {
            await ReadPartialAsync(db, partial.Path, partial.File, copyPartialNow, known, ct);
        }

        return new SpoolProgress(_partialEnd, _newestCommitAt, _newestCommitLsn, timeline, archived);
    }

    private async Task ArchiveClosedAsync(ConsoleDbContext db, string path, WalFileName file, CancellationToken ct)
    {
        WalCommits commits = new(null, null, null, null, 0);
        string? content = null;
        if (file.Kind == WalFileKind.History)
        {
            content = await File.ReadAllTextAsync(path, ct);
        }
        else
        {
            commits = await dump.ReadAsync(path, file, null, ct);
        }

        var stored = await stores.PutAsync(path, PitrKeys.Wal(server, file), options.WalCompressionLevel, small: file.Kind == WalFileKind.History, ct);
        db.Set<WalArchiveFile>().Add(new WalArchiveFile
        {
            TargetId = server,
            Kind = file.Kind,
            Timeline = file.Timeline,
            Segment = file.Segment,
            Key = stored.Key,
            SizeBytes = stored.SizeBytes,
            Sha256 = stored.Sha256,
            FirstCommitAt = commits.FirstCommitAt,
            LastCommitAt = commits.LastCommitAt,
            EndLsn = file.Kind == WalFileKind.Segment ? Lsn.OfSegmentStart(file.Segment + 1).ToString() : null,
            Content = content,
            ArchivedAt = time.GetUtcNow(),
        });

        // The partial copy of this segment is superseded by the closed one.
        var stale = await db.Set<WalArchiveFile>().Where(w => w.TargetId == server && w.Kind == WalFileKind.Partial && w.Timeline == file.Timeline && w.Segment == file.Segment).ToListAsync(ct);
        foreach (var s in stale)
        {
            await stores.DeleteEverywhereAsync(s.Key, ct);
            db.Remove(s);
        }

        await db.SaveChangesAsync(ct);
        if (commits.LastCommitAt is { } at && (_newestCommitAt is null || at > _newestCommitAt))
        {
            _newestCommitAt = at;
            _newestCommitLsn = commits.LastCommitLsn;
        }

        logger.LogDebug("Archived {File} for server {Server} ({Size} bytes)", file.SpoolName, server, stored.SizeBytes);
    }

    /// <summary>Keeps the newest closed segment beside the partial one (pg_receivewal starts from what its folder holds)
    /// and removes the older ones once they are archived.</summary>
    private static void RemoveArchivedSegments(List<(string Path, WalFileName File)> segments, HashSet<WalFileName> known)
    {
        var newest = segments.Count == 0 ? (long?)null : segments.Max(s => s.File.Segment);
        foreach (var (path, file) in segments)
        {
            if (file.Segment != newest && known.Contains(file))
            {
                File.Delete(path);
            }
        }
    }

    private async Task ReadPartialAsync(ConsoleDbContext db, string path, WalFileName file, bool copyNow, HashSet<WalFileName> closed, CancellationToken ct)
    {
        if (_partial != file)
        {
            _partial = file;
            _partialEnd = null;
            _copiedEnd = null;
        }

        var commits = await dump.ReadAsync(path, file, _partialEnd, ct);
        if (commits.EndOfValidWal is { } end && (_partialEnd is null || end > _partialEnd))
        {
            _partialEnd = end;
        }

        if (commits.LastCommitAt is { } at && (_newestCommitAt is null || at >= _newestCommitAt))
        {
            _newestCommitAt = at;
            _newestCommitLsn = commits.LastCommitLsn;
        }

        var now = time.GetUtcNow();
        if (_partialEnd != _copiedEnd && (copyNow || now - _lastPartialCopy >= options.PartialCopyInterval))
        {
            await CopyPartialAsync(db, path, file, closed, now, ct);
        }
    }

    private async Task CopyPartialAsync(ConsoleDbContext db, string path, WalFileName file, HashSet<WalFileName> closed, DateTimeOffset now, CancellationToken ct)
    {
        // Partial copies of other segments stay: each is the tail of an earlier stream (before a lost slot or a
        // timeline change) until the closed segment of the same name supersedes it.
        var row = await db.Set<WalArchiveFile>().FirstOrDefaultAsync(w => w.TargetId == server && w.Kind == WalFileKind.Partial && w.Timeline == file.Timeline && w.Segment == file.Segment, ct);
        // A folder left behind while another instance streamed on (it took over from this one) may hold less of the
        // segment than the archive: the closed segment, or a longer copy. It is never copied over those.
        if (closed.Contains(WalFileName.SegmentOf(file.Timeline, file.Segment)) || (row?.EndLsn is { } theirs && _partialEnd is { } mine && Lsn.Parse(theirs) > mine))
        {
            return;
        }

        var stored = await stores.PutAsync(path, PitrKeys.Wal(server, file), options.WalCompressionLevel, small: true, ct);
        if (row is null)
        {
            row = new WalArchiveFile { TargetId = server, Kind = WalFileKind.Partial, Timeline = file.Timeline, Segment = file.Segment, Key = stored.Key, Sha256 = stored.Sha256 };
            db.Add(row);
        }

        row.Key = stored.Key;
        row.Sha256 = stored.Sha256;
        row.SizeBytes = stored.SizeBytes;
        row.LastCommitAt = _newestCommitAt;
        row.EndLsn = _partialEnd?.ToString();
        row.ArchivedAt = now;
        await db.SaveChangesAsync(ct);
        _copiedEnd = _partialEnd;
        _lastPartialCopy = now;
    }
}
